// Reads of the customer's own view of the catalog, through the one Partner Center client (its retries, 429
// Retry-After waits and deadline), each cached per customer and id for a bounded time with single-flight:
//   GET /v1/customers/{id}/products/{productId}/skus/{skuId}                  the SKU (quantity bounds, trial)
//   GET /v1/customers/{id}/products/{productId}/skus/{skuId}/availabilities   its availabilities (catalog ids, terms)
//   GET /v1/customers/{id}/products/{productId}/skus                          a product's SKUs (catalog search)
//   GET /v1/customers/{id}/products?targetView=…                              the products of a view, page by page
// A 404 is a fact about the catalog (nothing of that id for this customer) and is cached like an answer; any other
// failure is thrown and not cached.
import type * as z from 'zod/mini';
import { isCustomerRefusal, PartnerCenterError } from '../errors.js';
import { logger } from '../log.js';
import type { PartnerCenterClient, PartnerCenterRequest } from '../partner-center/client.js';
import {
  type CatalogAvailability,
  CatalogAvailabilityCollection,
  type CatalogProduct,
  CatalogProductCollection,
  CatalogSku,
  CatalogSkuCollection,
} from '../schemas/catalog.js';
import { answerAs } from '../services/context.js';
import { SingleFlightCache } from './cache.js';

/** What a read needs from the request that made it. */
export interface ReadContext {
  partnerCenter: Pick<PartnerCenterClient, 'send'>;
  correlationId: string;
  /** Epoch ms: no attempt starts after it. */
  deadline: number;
}

/** Partner Center answered 404: the customer's catalog has nothing of that id. */
export interface NotInCatalog {
  notFound: true;
  code?: string;
  description?: string;
}

export type SkuRead = CatalogSku | NotInCatalog;
export type AvailabilitiesRead = CatalogAvailability[] | NotInCatalog;

export const isNotFound = (value: unknown): value is NotInCatalog =>
  typeof value === 'object' && value !== null && (value as NotInCatalog).notFound === true;

export interface CatalogOptions {
  /** How long an answer is kept (CATALOG_CACHE_SECONDS). */
  ttlMs: number;
  /** Entries per kind of read, least recently used first out. */
  maxEntries?: number;
  now?: () => number;
}

/** Pages of one product list read at most: a view of a few thousand products, without reading forever. */
export const MAX_PRODUCT_PAGES = 20;

const segment = encodeURIComponent;
const customerPath = (customerId: string) => `/v1/customers/${segment(customerId)}`;
const skuPath = (customerId: string, productId: string, skuId: string) =>
  `${customerPath(customerId)}/products/${segment(productId)}/skus/${segment(skuId)}`;

/** The customer-scoped catalog, one instance per container (functions/shared/dependencies.ts). */
export class Catalog {
  private readonly skus: SingleFlightCache<SkuRead>;
  private readonly availabilities: SingleFlightCache<AvailabilitiesRead>;
  private readonly productSkus: SingleFlightCache<CatalogSku[] | NotInCatalog>;
  private readonly products: SingleFlightCache<{ items: CatalogProduct[]; complete: boolean }>;
  /** Upstream reads this instance has made (each paged request counts once). */
  reads = 0;

  constructor(readonly options: CatalogOptions) {
    const cache = {
      ttlMs: options.ttlMs,
      maxEntries: options.maxEntries ?? 1000,
      ...(options.now ? { now: options.now } : {}),
    };
    this.skus = new SingleFlightCache(cache);
    this.availabilities = new SingleFlightCache(cache);
    this.productSkus = new SingleFlightCache(cache);
    this.products = new SingleFlightCache(cache);
  }

  /** A SKU's facts when both are cached and fresh: no read, no promise (the pre-flight's warm path). */
  cachedFacts(customerId: string, productId: string, skuId: string) {
    const at = key(customerId, productId, skuId);
    const sku = this.skus.peek(at);
    const availabilities = sku === undefined ? undefined : this.availabilities.peek(at);
    return sku === undefined || availabilities === undefined ? undefined : { sku, availabilities };
  }

  /** The SKU as this customer sees it. */
  sku(ctx: ReadContext, customerId: string, productId: string, skuId: string): Promise<SkuRead> {
    return this.skus.get(key(customerId, productId, skuId), () =>
      this.read(ctx, 'catalog-sku', { method: 'GET', path: skuPath(customerId, productId, skuId) }, CatalogSku),
    );
  }

  /** The SKU's availabilities for this customer (its country and segment are implied by the customer). */
  availabilitiesOf(
    ctx: ReadContext,
    customerId: string,
    productId: string,
    skuId: string,
  ): Promise<AvailabilitiesRead> {
    return this.availabilities.get(key(customerId, productId, skuId), async () => {
      const path = `${skuPath(customerId, productId, skuId)}/availabilities`;
      const page = await this.read(
        ctx,
        'catalog-availabilities',
        { method: 'GET', path },
        CatalogAvailabilityCollection,
      );
      return isNotFound(page) ? page : (page.items ?? []);
    });
  }

  /** A product's SKUs; each is kept as the SKU read too, so a purchase right after a search reads no SKU again. */
  skusOf(ctx: ReadContext, customerId: string, productId: string): Promise<CatalogSku[] | NotInCatalog> {
    return this.productSkus.get(key(customerId, productId), async () => {
      const path = `${customerPath(customerId)}/products/${segment(productId)}/skus`;
      const page = await this.read(ctx, 'catalog-skus', { method: 'GET', path }, CatalogSkuCollection);
      if (isNotFound(page)) return page;
      const items = page.items ?? [];
      for (const sku of items) this.skus.seed(key(customerId, productId, sku.id), sku);
      return items;
    });
  }

  /** Every product of a view (all pages, up to MAX_PRODUCT_PAGES; `complete` says whether that was all). */
  productsIn(ctx: ReadContext, customerId: string, targetView: string) {
    return this.products.get(key(customerId, targetView), async () => {
      const items: CatalogProduct[] = [];
      let request: PartnerCenterRequest | undefined = {
        method: 'GET',
        path: `${customerPath(customerId)}/products?targetView=${segment(targetView)}`,
      };
      for (let page = 0; request && page < MAX_PRODUCT_PAGES; page++) {
        // A 404 here is about the customer (Partner Center's 60003 "Tenant not found"), not a fact of its catalog.
        const answer = await this.read(ctx, 'catalog-products', request, CatalogProductCollection, false);
        if (isNotFound(answer)) return { items, complete: true };
        items.push(...(answer.items ?? []));
        request = nextPage(answer.links?.next, customerId, request);
      }
      if (request) logger.warn('catalog: product list cut short', { customerId, targetView, pages: MAX_PRODUCT_PAGES });
      return { items, complete: request === undefined };
    });
  }

  /** Forgets everything (tests). */
  clear(): void {
    for (const cache of [this.skus, this.availabilities, this.productSkus, this.products]) cache.clear();
  }

  private async read<T>(
    ctx: ReadContext,
    step: string,
    request: PartnerCenterRequest,
    schema: z.ZodMiniType<T>,
    notFoundIsAnswer = true,
  ): Promise<T | NotInCatalog> {
    this.reads++;
    let response: Awaited<ReturnType<ReadContext['partnerCenter']['send']>>;
    try {
      // No MS-RequestId of ours: a read places nothing, so every read (and its retries) gets one of the client's.
      response = await ctx.partnerCenter.send(request, { correlationId: ctx.correlationId, deadline: ctx.deadline });
    } catch (error) {
      // A 404 about the customer itself (60003 "Tenant not found") is no fact of its catalog: thrown, never cached.
      if (
        notFoundIsAnswer &&
        error instanceof PartnerCenterError &&
        error.status === 404 &&
        !isCustomerRefusal(error)
      ) {
        logger.info('catalog read', { step, status: 404, code: error.code, upstreamRequestId: error.ids.requestId });
        return {
          notFound: true,
          ...(error.code === undefined ? {} : { code: error.code }),
          ...(error.description === undefined ? {} : { description: error.description }),
        };
      }
      throw error;
    }
    return answerAs(response, step, schema, `Partner Center answered ${step} without the resource.`, 'catalog read');
  }
}

const key = (...parts: string[]) => parts.join('|');

type NextLink = NonNullable<NonNullable<CatalogProductCollection['links']>['next']>;

/**
 * The next page, when Partner Center links one: its `uri` (relative to the API root, with or without `/v1`) must be
 * this customer's product list again, and only its `MS-ContinuationToken` header is carried over.
 */
function nextPage(
  next: NextLink | null | undefined,
  customerId: string,
  previous: PartnerCenterRequest,
): PartnerCenterRequest | undefined {
  const uri = next?.uri;
  if (!uri) return undefined;
  const path = uri.startsWith('/v1/') ? uri : uri.startsWith('/') ? `/v1${uri}` : undefined;
  const expected = `${customerPath(customerId)}/products`.toLowerCase();
  if (path === undefined || !path.toLowerCase().startsWith(expected) || /[\s#]|\/\/|\.\./.test(path)) {
    logger.warn("catalog: a next-page link that is not this customer's product list was not followed", {
      customerId,
    });
    return undefined;
  }
  const token = next?.headers?.find((header) => header.key.toLowerCase() === 'ms-continuationtoken')?.value;
  if (path === previous.path && token === previous.headers?.['MS-ContinuationToken']) return undefined;
  return { method: 'GET', path, ...(token === undefined ? {} : { headers: { 'MS-ContinuationToken': token } }) };
}
