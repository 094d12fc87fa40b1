// The customer-scoped catalog endpoints (get-a-list-of-products-by-customer, get-a-sku-by-id,
// get-a-list-of-availabilities-for-a-sku, by customer), with the documented field names, over catalog-data.ts; and
// the refusals a purchase of a listed product gets when it does not match the catalog (catalogRefusal), so that what
// the service's pre-flight refuses, the simulator refuses too.
import { createHash } from 'node:crypto';
import {
  SIMULATOR_CATALOG,
  SIMULATOR_CATALOG_VIEW,
  type SimulatorAvailability,
  type SimulatorProduct,
  type SimulatorSku,
} from './catalog-data.js';
import { type HandlerResult, invalidInput, json, pcError, type Reply, type RouteContext } from './http.js';
import { link, type ResourceCollection } from './models.js';
import { parseBillingCycle } from './validation.js';

/** Products per page of `GET …/products`: small, so that paging is exercised. */
export const CATALOG_PAGE_SIZE = 3;

const same = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();

/** Fault markers (validation.ts, carts.ts, provisioning.ts) in a product id make a product of their own: see markerProduct. */
const MARKERS = /INVALID|PARTIALFAIL|STALLED/;
/** The availability every marker product has: `PARTIALFAIL:0001:MARKER`. */
export const MARKER_AVAILABILITY = 'MARKER';

/**
 * A product whose id holds a fault marker is in every customer's catalog, with any SKU id asked for, availability
 * MARKER on every term, so that a marked line gets past the pre-flight to the purchase, where the marker acts (the
 * test hooks work with PREFLIGHT on). Never listed by `GET …/products`, and never refused by catalogRefusal.
 */
function markerProduct(id: string, skuId: string): SimulatorProduct | undefined {
  if (!MARKERS.test(id)) return undefined;
  const availabilities = [
    {
      id: MARKER_AVAILABILITY,
      isPurchasable: true,
      terms: [
        ['P1M', 'monthly'],
        ['P1M', 'none'],
        ['P1Y', 'monthly'],
        ['P1Y', 'annual'],
        ['P3Y', 'triennial'],
      ] as [string, string][],
    },
  ];
  const title = `Fault marker ${id} (simulator test hook)`;
  return {
    id,
    title,
    description: title,
    skus: [
      {
        id: skuId,
        title,
        description: title,
        minimumQuantity: 1,
        maximumQuantity: 10000,
        isTrial: false,
        supportedBillingCycles: ['monthly', 'annual', 'triennial', 'none'],
        availabilities,
      },
    ],
  };
}

const findProduct = (id: string, skuId = '0001') =>
  SIMULATOR_CATALOG.find((p) => same(p.id, id)) ?? markerProduct(id, skuId);
const findSku = (product: SimulatorProduct, id: string) => product.skus.find((s) => same(s.id, id));
const notFound = (what: string): Reply => pcError(404, 1000, `${what} was not found for this customer`);

const TERM_NAMES: Record<string, string> = { P1M: 'One-Month', P1Y: 'One-Year', P3Y: 'Three-Year' };

function productJson(customerId: string, product: SimulatorProduct) {
  const self = `/customers/${customerId}/products/${product.id}`;
  return {
    id: product.id,
    title: product.title,
    description: product.description,
    productType: { id: SIMULATOR_CATALOG_VIEW, displayName: SIMULATOR_CATALOG_VIEW },
    isMicrosoftProduct: true,
    publisherName: 'Microsoft Corporation',
    links: { skus: link(`${self}/skus`), self: link(self) },
    attributes: { objectType: 'Product' },
  };
}

function skuJson(customerId: string, product: SimulatorProduct, sku: SimulatorSku) {
  const self = `/customers/${customerId}/products/${product.id}/skus/${sku.id}`;
  return {
    id: sku.id,
    productId: product.id,
    title: sku.title,
    description: sku.description,
    minimumQuantity: sku.minimumQuantity,
    maximumQuantity: sku.maximumQuantity,
    isTrial: sku.isTrial,
    supportedBillingCycles: sku.supportedBillingCycles,
    purchasePrerequisites: [],
    inventoryVariables: [],
    provisioningVariables: [],
    actions: [],
    dynamicAttributes: { isAddon: sku.isAddon === true, hasAddOns: false, isMicrosoftProduct: true },
    links: { availabilities: link(`${self}/availabilities`), self: link(self) },
    attributes: { objectType: 'Sku' },
  };
}

function availabilityJson(customerId: string, product: SimulatorProduct, sku: SimulatorSku, a: SimulatorAvailability) {
  return {
    id: a.id,
    productId: product.id,
    skuId: sku.id,
    catalogItemId: `${product.id}:${sku.id}:${a.id}`,
    defaultCurrency: { code: 'USD', symbol: '$' },
    segment: 'commercial',
    country: 'US',
    isPurchasable: a.isPurchasable,
    isRenewable: a.isPurchasable,
    renewalInstructions: [],
    terms: a.terms.map(([duration, billingCycle]) => ({
      duration,
      description: `${TERM_NAMES[duration] ?? duration} commitment for ${billingCycle} billing`,
      billingCycle,
      cancellationPolicies: [{ refundOptions: [{ type: 'Full', sequenceId: 1, expiresAfter: 'P1D' }] }],
    })),
    product: productJson(customerId, product),
    sku: skuJson(customerId, product, sku),
    links: { self: link(`/customers/${customerId}/products/${product.id}/skus/${sku.id}/availabilities/${a.id}`) },
    attributes: { objectType: 'Availability' },
  };
}

const collection = <T>(items: T[], self: string, next?: { uri: string; token: string }) => ({
  totalCount: items.length,
  items,
  links: {
    self: link(self),
    ...(next
      ? { next: { uri: next.uri, method: 'GET', headers: [{ key: 'MS-ContinuationToken', value: next.token }] } }
      : {}),
  },
  attributes: { objectType: 'Collection' as const },
});

/** Opaque to clients; says where the next page starts, and for which list. */
const continuationToken = (customerId: string, view: string, offset: number) =>
  Buffer.from(JSON.stringify({ offset, list: listId(customerId, view) })).toString('base64url');
const listId = (customerId: string, view: string) =>
  createHash('sha256').update(`${customerId.toLowerCase()}|${view}`).digest('hex').slice(0, 16);

const queryValue = (query: URLSearchParams, name: string) =>
  [...query].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

/** `GET /v1/customers/{id}/products?targetView=…`, page by page (`MS-ContinuationToken`). */
export function listProducts(ctx: RouteContext): HandlerResult {
  const { customerId } = ctx.params;
  const view = queryValue(ctx.query, 'targetView');
  if (!view) return { reply: invalidInput('targetView is required.') };
  const products = view.toLowerCase() === SIMULATOR_CATALOG_VIEW.toLowerCase() ? SIMULATOR_CATALOG : [];
  let offset = 0;
  const token = ctx.headers['ms-continuationtoken'];
  if (token !== undefined) {
    let parsed: { offset?: unknown; list?: unknown } | undefined;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (typeof parsed?.offset !== 'number' || parsed.list !== listId(customerId, view)) {
      return { reply: invalidInput('The continuation token is not valid.') };
    }
    offset = parsed.offset;
  }
  const page = products.slice(offset, offset + CATALOG_PAGE_SIZE).map((p) => productJson(customerId, p));
  const self = `/customers/${customerId}/products?targetView=${encodeURIComponent(view)}`;
  const more = offset + CATALOG_PAGE_SIZE < products.length;
  const body: ResourceCollection<unknown> = collection(
    page,
    self,
    more
      ? {
          uri: `${self}&seekOperation=Next`,
          token: continuationToken(customerId, view, offset + CATALOG_PAGE_SIZE),
        }
      : undefined,
  );
  return { reply: json(200, body) };
}

export function getProduct(ctx: RouteContext): HandlerResult {
  const product = findProduct(ctx.params.productId);
  return { reply: product ? json(200, productJson(ctx.params.customerId, product)) : notFound('The product') };
}

export function listSkus(ctx: RouteContext): HandlerResult {
  const { customerId, productId } = ctx.params;
  const product = findProduct(productId);
  if (!product) return { reply: notFound('The product') };
  const self = `/customers/${customerId}/products/${product.id}/skus`;
  return {
    reply: json(
      200,
      collection(
        product.skus.map((s) => skuJson(customerId, product, s)),
        self,
      ),
    ),
  };
}

export function getSku(ctx: RouteContext): HandlerResult {
  const { customerId, productId, skuId } = ctx.params;
  const product = findProduct(productId, skuId);
  const sku = product && findSku(product, skuId);
  return { reply: product && sku ? json(200, skuJson(customerId, product, sku)) : notFound('The SKU') };
}

export function listAvailabilities(ctx: RouteContext): HandlerResult {
  const { customerId, productId, skuId } = ctx.params;
  const product = findProduct(productId, skuId);
  const sku = product && findSku(product, skuId);
  if (!product || !sku) return { reply: notFound('The SKU') };
  const self = `/customers/${customerId}/products/${product.id}/skus/${sku.id}/availabilities`;
  return {
    reply: json(
      200,
      collection(
        sku.availabilities.map((a) => availabilityJson(customerId, product, sku, a)),
        self,
      ),
    ),
  };
}

/** A purchase line as the simulator's order and cart handlers see it. */
export interface CatalogLine {
  id: string;
  quantity: number;
  termDuration?: string;
  billingCycle: string;
}

/**
 * How Partner Center answers a purchase line of a listed product that its catalog does not offer; undefined when the
 * line is fine, or when its product is not in the simulator's catalog (made-up ids of the fault and reliability
 * suites are bought unchecked, as before the catalog existed).
 */
export function catalogRefusal(line: CatalogLine): Reply | undefined {
  const [productId, skuId, availabilityId, ...rest] = line.id.split(':');
  if (!productId || !skuId || !availabilityId || rest.length > 0) return undefined;
  const product = SIMULATOR_CATALOG.find((p) => same(p.id, productId));
  if (!product) return undefined;
  const sku = findSku(product, skuId);
  const availability = sku?.availabilities.find((a) => same(a.id, availabilityId));
  if (!sku || !availability) return pcError(400, 800004, 'Invalid offer Id', [line.id]);
  if (!availability.isPurchasable) return pcError(403, 2091, 'The offer is no longer available for purchase');
  const parsed = parseBillingCycle(line.billingCycle);
  const cycle = parsed.ok ? parsed.value : line.billingCycle;
  const cycleName = cycle === 'one_time' ? 'OneTime' : cycle.charAt(0).toUpperCase() + cycle.slice(1);
  const unsupportedCycle = pcError(
    400,
    2004,
    `The following offer(s): ${line.id} does not support billing cycle type: ${cycleName}`,
  );
  if (sku.isTrial && cycle !== 'none') return unsupportedCycle;
  const term = line.termDuration?.toUpperCase() ?? '';
  const terms = availability.terms.filter(([duration]) => duration === term);
  if (terms.length === 0) {
    return invalidInput(`Availability ${availabilityId} does not support term '${line.termDuration ?? ''}'`);
  }
  if (!terms.some(([, termCycle]) => termCycle === cycle)) return unsupportedCycle;
  if (line.quantity < sku.minimumQuantity) {
    return pcError(400, 800017, 'The quantity is not available for this catalog item', [line.id]);
  }
  if (line.quantity > sku.maximumQuantity) {
    return pcError(
      403,
      800088,
      `The requested number of ${line.quantity} seat/s exceeded the remaining limit of ${sku.maximumQuantity} seats allowed per subscription for the CatalogID - ${line.id}`,
    );
  }
  return undefined;
}
