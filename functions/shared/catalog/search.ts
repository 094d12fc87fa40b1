// Find what to buy: the customer's products of a view whose title or id holds every word searched for, each with its
// SKUs and their purchasable availabilities (catalog id, terms and billing cycles, quantity bounds), ready to paste
// into an order or a cart. Every read is the catalog's (reads.ts): cached, single-flight, through the one client.
import { type CatalogSearchResult, type CatalogSku, DEFAULT_TARGET_VIEW, type TargetView } from '../schemas/catalog.js';
import { offeredTerms, purchasableIds } from './checks.js';
import { type Catalog, isNotFound, type ReadContext } from './reads.js';

/** Products answered at most: more matches are counted (`matched`) and marked `truncated`; narrow the search. */
export const MAX_SEARCH_PRODUCTS = 10;

/** Products whose SKUs are read at once. */
const CONCURRENCY = 4;

const words = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);

/** Exact titles first, then titles that start with the search, then shorter titles (fewer extras), then by id. */
function rank(search: string) {
  const wanted = search.trim().toLowerCase();
  const score = (title: string) => (title === wanted ? 0 : title.startsWith(wanted) ? 1 : 2);
  return (a: { id: string; title?: string | null }, b: { id: string; title?: string | null }) => {
    const ta = (a.title ?? '').toLowerCase();
    const tb = (b.title ?? '').toLowerCase();
    return score(ta) - score(tb) || ta.length - tb.length || a.id.localeCompare(b.id);
  };
}

export async function searchCatalog(
  catalog: Catalog,
  ctx: ReadContext,
  input: { customerId: string; search: string; targetView?: TargetView },
): Promise<CatalogSearchResult> {
  const targetView = input.targetView ?? DEFAULT_TARGET_VIEW;
  const { items, complete } = await catalog.productsIn(ctx, input.customerId, targetView);
  const wanted = words(input.search);
  const matches = items
    .filter((product) => {
      const text = `${product.title ?? ''} ${product.id}`.toLowerCase();
      return wanted.every((word) => text.includes(word));
    })
    .sort(rank(input.search));
  const shown = matches.slice(0, MAX_SEARCH_PRODUCTS);

  const products: CatalogSearchResult['products'] = new Array(shown.length);
  let next = 0;
  const worker = async () => {
    while (next < shown.length) {
      const index = next++;
      const product = shown[index] as (typeof shown)[number];
      const skus = await catalog.skusOf(ctx, input.customerId, product.id);
      products[index] = {
        productId: product.id,
        ...(product.title ? { title: product.title } : {}),
        skus: isNotFound(skus)
          ? []
          : await Promise.all(skus.map((sku) => describeSku(catalog, ctx, input.customerId, product.id, sku))),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, shown.length) }, worker));
  return {
    customerId: input.customerId,
    targetView,
    search: input.search,
    products,
    truncated: matches.length > shown.length || !complete,
    matched: matches.length,
  };
}

async function describeSku(catalog: Catalog, ctx: ReadContext, customerId: string, productId: string, sku: CatalogSku) {
  const availabilities = await catalog.availabilitiesOf(ctx, customerId, productId, sku.id);
  const purchasable = isNotFound(availabilities) ? [] : availabilities.filter((a) => a.isPurchasable !== false);
  const ids = purchasableIds(purchasable, { productId, skuId: sku.id, availabilityId: '' });
  return {
    skuId: sku.id,
    ...(sku.title ? { title: sku.title } : {}),
    isTrial: sku.isTrial === true,
    ...(typeof sku.minimumQuantity === 'number' ? { minimumQuantity: sku.minimumQuantity } : {}),
    ...(typeof sku.maximumQuantity === 'number' ? { maximumQuantity: sku.maximumQuantity } : {}),
    availabilities: purchasable.map((availability, i) => ({
      catalogItemId: ids[i] as string,
      terms: offeredTerms(availability, sku),
    })),
  };
}
