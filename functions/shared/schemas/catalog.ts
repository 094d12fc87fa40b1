// The catalog: Partner Center's customer-scoped catalog resources as they are read (leniently: unknown fields kept,
// enums as strings), the catalog search route's query and answer, and the pre-flight report a dry run carries.
// Field names are the documented ones (product-resources.md: Product, Sku, Availability, Term).
import * as z from 'zod/mini';

const optionalText = z.optional(z.nullable(z.string()));

/** A term an availability is sold with: `P1M`, `P1Y`, `P3Y`, each with one billing cycle (a term sold with two appears twice). */
export const CatalogTerm = z.looseObject({
  duration: optionalText,
  description: optionalText,
  billingCycle: optionalText,
});
export type CatalogTerm = z.infer<typeof CatalogTerm>;

/** `GET /v1/customers/{id}/products/{productId}/skus/{skuId}`: the SKU's quantity bounds, trial flag and billing cycles. */
export const CatalogSku = z.looseObject({
  id: z.string(),
  productId: optionalText,
  title: optionalText,
  description: optionalText,
  minimumQuantity: z.optional(z.nullable(z.number())),
  maximumQuantity: z.optional(z.nullable(z.number())),
  isTrial: z.optional(z.nullable(z.boolean())),
  supportedBillingCycles: z.optional(z.nullable(z.array(z.string()))),
  purchasePrerequisites: z.optional(z.nullable(z.array(z.string()))),
});
export type CatalogSku = z.infer<typeof CatalogSku>;

const productSummary = z.looseObject({ id: optionalText, title: optionalText });

/** One of `…/skus/{skuId}/availabilities`: what a line buys (`catalogItemId`), whether it can, and on which terms. */
export const CatalogAvailability = z.looseObject({
  id: z.string(),
  productId: optionalText,
  skuId: optionalText,
  catalogItemId: optionalText,
  isPurchasable: z.optional(z.nullable(z.boolean())),
  isRenewable: z.optional(z.nullable(z.boolean())),
  segment: optionalText,
  country: optionalText,
  terms: z.optional(z.nullable(z.array(CatalogTerm))),
  product: z.optional(z.nullable(productSummary)),
});
export type CatalogAvailability = z.infer<typeof CatalogAvailability>;

/** `GET /v1/customers/{id}/products?targetView=…`: one product. */
export const CatalogProduct = z.looseObject({
  id: z.string(),
  title: optionalText,
  description: optionalText,
});
export type CatalogProduct = z.infer<typeof CatalogProduct>;

const link = z.looseObject({
  uri: optionalText,
  method: optionalText,
  headers: z.optional(z.nullable(z.array(z.looseObject({ key: z.string(), value: z.string() })))),
});

/** A Partner Center collection; `links.next` (with an `MS-ContinuationToken` header) when there is another page. */
const collection = <T extends z.core.$ZodType>(item: T) =>
  z.looseObject({
    totalCount: z.optional(z.nullable(z.number())),
    items: z.optional(z.nullable(z.array(item))),
    links: z.optional(z.nullable(z.looseObject({ next: z.optional(z.nullable(link)) }))),
  });

export const CatalogProductCollection = collection(CatalogProduct);
export type CatalogProductCollection = z.infer<typeof CatalogProductCollection>;
export const CatalogSkuCollection = collection(CatalogSku);
export const CatalogAvailabilityCollection = collection(CatalogAvailability);

// ---------------------------------------------------------------------------------------------------------------
// GET /customers/{customerId}/catalog

/** The catalog views a customer's products are listed in (get-a-list-of-products-by-customer). */
export const TARGET_VIEWS = [
  'OnlineServices',
  'Azure',
  'AzureReservations',
  'AzureReservationsVM',
  'AzureReservationsSQL',
  'AzureReservationsCosmosDb',
  'MicrosoftAzure',
  'Software',
  'SoftwareSUSELinux',
  'SoftwarePerpetual',
  'SoftwareSubscriptions',
  'SpecializedOffers',
] as const;
export type TargetView = (typeof TARGET_VIEWS)[number];
/** New commerce licence-based products: what a purchase line with a catalog id usually names. */
export const DEFAULT_TARGET_VIEW: TargetView = 'OnlineServices';

/** `?search=Microsoft 365 E3&targetView=OnlineServices`: every word must be in a product's title or id (any case). */
export const CatalogQuery = z.strictObject({
  search: z.string().check(z.regex(/\S/, { error: 'must have a word to search for' }), z.maxLength(200)),
  targetView: z.optional(z.enum(TARGET_VIEWS, { error: `must be one of: ${TARGET_VIEWS.join(', ')}` })),
});
export type CatalogQuery = z.infer<typeof CatalogQuery>;

/** A term as a purchase line names it: `termDuration` and the billing cycles Partner Center offers with it. */
export const OfferedTerm = z.object({
  termDuration: z.string(),
  billingCycles: z.array(z.string()),
});
export type OfferedTerm = z.infer<typeof OfferedTerm>;

const quantityBounds = {
  minimumQuantity: z.optional(z.number()),
  maximumQuantity: z.optional(z.number()),
};

export const CatalogSearchResult = z.object({
  customerId: z.string(),
  targetView: z.string(),
  search: z.string(),
  products: z.array(
    z.object({
      productId: z.string(),
      title: z.optional(z.string()),
      skus: z.array(
        z.object({
          skuId: z.string(),
          title: z.optional(z.string()),
          isTrial: z.boolean(),
          ...quantityBounds,
          availabilities: z.array(
            z.object({
              catalogItemId: z
                .string()
                .check(z.describe('Paste into offerId (orders) or catalogItemId (carts); only good for a short time.')),
              terms: z.array(OfferedTerm),
            }),
          ),
        }),
      ),
    }),
  ),
  /** More products matched than are answered: narrow the search. */
  truncated: z.boolean(),
  matched: z.number(),
});
export type CatalogSearchResult = z.infer<typeof CatalogSearchResult>;

// ---------------------------------------------------------------------------------------------------------------
// The pre-flight report of a dry run.

const FieldError = z.object({ path: z.string(), message: z.string() });

/** What the pre-flight used about one line: the catalog facts its verdict rests on. */
export const LineCatalogFacts = z.object({
  productTitle: z.optional(z.string()),
  skuTitle: z.optional(z.string()),
  isTrial: z.boolean(),
  isPurchasable: z.optional(z.boolean()),
  terms: z.array(OfferedTerm),
  ...quantityBounds,
});
export type LineCatalogFacts = z.infer<typeof LineCatalogFacts>;

export const PREFLIGHT_VERDICTS = ['pass', 'refused', 'unavailable', 'unchecked'] as const;

export const PreflightReport = z.object({
  mode: z.enum(['on', 'best-effort']),
  verdict: z.enum(['pass', 'refused', 'unavailable']),
  /** What the real request would do with this verdict. */
  detail: z.string(),
  lines: z.array(
    z.object({
      path: z.string(),
      catalogItemId: z.string(),
      verdict: z.enum(PREFLIGHT_VERDICTS),
      /** Why a line is unchecked or unavailable. */
      reason: z.optional(z.string()),
      errors: z.optional(z.array(FieldError)),
      catalog: z.optional(LineCatalogFacts),
    }),
  ),
});
export type PreflightReport = z.infer<typeof PreflightReport>;
