// The pre-flight's checks: one purchase line against the catalog facts of its SKU, as Partner Center would judge it
// (availability present and purchasable, term among its terms, billing cycle offered for that term, quantity within
// the SKU's bounds, trials billed `none`). Pure: the facts are read elsewhere (reads.ts).
import type { FieldError } from '../errors.js';
import type { CatalogAvailability, CatalogSku, LineCatalogFacts, OfferedTerm } from '../schemas/catalog.js';
import { type AvailabilitiesRead, isNotFound, type SkuRead } from './reads.js';

/** One line of a purchase as the checks see it, with JSON pointers relative to the payload. */
export interface PurchaseLine {
  /** The line: `/lineItems/0`. */
  path: string;
  /** Where the catalog id is: `offerId` (orders) or `catalogItemId` (carts). */
  idField: 'offerId' | 'catalogItemId';
  id: string;
  quantity: number;
  termDuration?: string;
  /** The billing cycle the purchase would be billed with (an order's default when it names none). */
  billingCycle: string;
  /** Where that billing cycle is set: `/billingCycle` (an order) or `/lineItems/0/billingCycle` (a cart line). */
  billingCyclePath: string;
  /** The order names no billing cycle: Partner Center's default (monthly) applies. */
  billingCycleDefaulted: boolean;
}

export interface CatalogId {
  productId: string;
  skuId: string;
  availabilityId: string;
}

/** `productId:skuId:availabilityId`; anything else (a legacy offer GUID, `MS-AZR-0145P`) is not checked. */
export function parseCatalogId(id: string): CatalogId | undefined {
  const [productId, skuId, availabilityId, ...rest] = id.split(':');
  if (!productId || !skuId || !availabilityId || rest.length > 0) return undefined;
  return { productId, skuId, availabilityId };
}

export interface SkuFacts {
  sku: SkuRead;
  availabilities: AvailabilitiesRead;
}

export interface LineVerdict {
  errors: FieldError[];
  /** The facts the verdict used, when the SKU was found. */
  catalog?: LineCatalogFacts;
}

/** `OneTime`, `oneTime`, `one_time` → `one_time`, as Partner Center reads its enums. */
export const cycleName = (value: string) =>
  value
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();

const same = (a: string | null | undefined, b: string) => typeof a === 'string' && a.toUpperCase() === b.toUpperCase();
const list = (values: string[]) => (values.length === 0 ? 'none' : values.join(', '));
const MAX_LISTED_IDS = 5;

/** Per cached availability object (and the SKU it was read with): computed once, not on every warm purchase. */
const termsOf = new WeakMap<CatalogAvailability, { sku: CatalogSku; terms: OfferedTerm[] }>();

/** The terms of an availability by duration, each with its billing cycles (the SKU's, for a term that names none). */
export function offeredTerms(availability: CatalogAvailability, sku: CatalogSku): OfferedTerm[] {
  const known = termsOf.get(availability);
  if (known?.sku === sku) return known.terms;
  const terms = computeTerms(availability, sku);
  termsOf.set(availability, { sku, terms });
  return terms;
}

function computeTerms(availability: CatalogAvailability, sku: CatalogSku): OfferedTerm[] {
  const fallback = (sku.supportedBillingCycles ?? []).map(cycleName);
  const byDuration = new Map<string, Set<string>>();
  for (const term of availability.terms ?? []) {
    if (!term.duration) continue;
    const duration = term.duration.toUpperCase();
    const cycles = byDuration.get(duration) ?? new Set<string>();
    for (const cycle of term.billingCycle ? [cycleName(term.billingCycle)] : fallback) cycles.add(cycle);
    byDuration.set(duration, cycles);
  }
  return [...byDuration].map(([termDuration, cycles]) => ({ termDuration, billingCycles: [...cycles] }));
}

/** The catalog ids of a SKU that can be bought now: what to paste instead of a stale one. */
export function purchasableIds(availabilities: CatalogAvailability[], ids: CatalogId): string[] {
  return availabilities
    .filter((a) => a.isPurchasable !== false)
    .map((a) => a.catalogItemId ?? `${ids.productId}:${ids.skuId}:${a.id}`);
}

export function lineFacts(sku: CatalogSku, availability: CatalogAvailability | undefined): LineCatalogFacts {
  const productTitle = availability?.product?.title ?? undefined;
  return {
    ...(productTitle ? { productTitle } : {}),
    ...(sku.title ? { skuTitle: sku.title } : {}),
    isTrial: sku.isTrial === true,
    ...(availability && typeof availability.isPurchasable === 'boolean'
      ? { isPurchasable: availability.isPurchasable }
      : {}),
    terms: availability ? offeredTerms(availability, sku) : [],
    ...(typeof sku.minimumQuantity === 'number' ? { minimumQuantity: sku.minimumQuantity } : {}),
    ...(typeof sku.maximumQuantity === 'number' ? { maximumQuantity: sku.maximumQuantity } : {}),
  };
}

/** Every way `line` does not match its SKU's catalog facts; none when it would be accepted. */
export function checkLine(line: PurchaseLine, ids: CatalogId, facts: SkuFacts): LineVerdict {
  const idPath = `${line.path}/${line.idField}`;
  const skuName = `${ids.productId}:${ids.skuId}`;
  const { sku, availabilities } = facts;
  if (isNotFound(sku) || isNotFound(availabilities)) {
    const upstream = isNotFound(sku) ? sku : (availabilities as { code?: string; description?: string });
    const said = upstream.description ? ` (Partner Center: ${upstream.code ?? 404} ${upstream.description})` : '';
    return {
      errors: [
        { path: idPath, message: `product ${ids.productId} SKU ${ids.skuId} is not in this customer's catalog${said}` },
      ],
    };
  }
  const title = sku.title ? `${sku.title} (${skuName})` : skuName;
  const availability = availabilities.find((a) => same(a.id, ids.availabilityId) || same(a.catalogItemId, line.id));
  const catalog = lineFacts(sku, availability);
  const current = () => {
    const ids_ = purchasableIds(availabilities, ids);
    const shown = ids_.slice(0, MAX_LISTED_IDS).join(', ');
    return ids_.length === 0 ? 'it has no purchasable availability now' : `purchasable now: ${shown}`;
  };
  if (!availability) {
    return {
      errors: [
        {
          path: idPath,
          message: `availability ${ids.availabilityId} of ${title} is not in this customer's catalog (availability ids are reissued over time); ${current()}`,
        },
      ],
      catalog,
    };
  }
  if (availability.isPurchasable === false) {
    return {
      errors: [
        {
          path: idPath,
          message: `availability ${ids.availabilityId} of ${title} is not purchasable for this customer (isPurchasable: false); ${current()}`,
        },
      ],
      catalog,
    };
  }

  const errors: FieldError[] = [];
  const cycle = cycleName(line.billingCycle);
  const cycleSaid = line.billingCycleDefaulted ? `absent, so Partner Center's default ${cycle} applies` : cycle;
  const trialRefused = sku.isTrial === true && cycle !== 'none';
  if (trialRefused) {
    errors.push({
      path: line.billingCyclePath,
      message: `${title} is a trial SKU (isTrial: true), billed with billingCycle none; got ${cycleSaid}`,
    });
  }
  const terms = catalog.terms;
  if (terms.length > 0) {
    const durations = terms.map((t) => t.termDuration);
    if (line.termDuration === undefined) {
      errors.push({
        path: `${line.path}/termDuration`,
        message: `is required: availability ${ids.availabilityId} of ${title} is sold with terms ${list(durations)}`,
      });
    } else {
      const term = terms.find((t) => same(t.termDuration, line.termDuration as string));
      if (!term) {
        errors.push({
          path: `${line.path}/termDuration`,
          message: `${line.termDuration} is not a term of availability ${ids.availabilityId} of ${title} (terms: ${list(durations)})`,
        });
      } else if (!trialRefused && term.billingCycles.length > 0 && !term.billingCycles.includes(cycle)) {
        errors.push({
          path: line.billingCyclePath,
          message: `billing cycle ${cycleSaid} is not offered for term ${term.termDuration} of ${title} (offered: ${list(term.billingCycles)})`,
        });
      }
    }
  } else if (!trialRefused && (sku.supportedBillingCycles ?? []).length > 0) {
    const supported = (sku.supportedBillingCycles ?? []).map(cycleName);
    if (!supported.includes(cycle)) {
      errors.push({
        path: line.billingCyclePath,
        message: `billing cycle ${cycleSaid} is not supported by ${title} (supportedBillingCycles: ${list(supported)})`,
      });
    }
  }
  const { minimumQuantity: min, maximumQuantity: max } = catalog;
  if (min !== undefined && line.quantity < min) {
    errors.push({
      path: `${line.path}/quantity`,
      message: `must be at least ${min} for ${title} (minimumQuantity ${min})`,
    });
  } else if (max !== undefined && line.quantity > max) {
    errors.push({
      path: `${line.path}/quantity`,
      message: `must be at most ${max} for ${title} (maximumQuantity ${max})`,
    });
  }
  return { errors, catalog };
}
