import { randomInt, randomUUID } from 'node:crypto';
import { invalidInput, pcError, type Reply } from './http.js';
import type { BillingCycle } from './models.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const isGuid = (value: string): boolean => GUID.test(value);
export const newGuid = (): string => randomUUID();

export function randomString(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reply: Reply };

export function parseJsonObject(body: string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reply: invalidInput('The request body is not valid JSON.') };
  }
  if (!isRecord(value)) return { ok: false, reply: invalidInput('The request body must be a JSON object.') };
  return { ok: true, value };
}

/**
 * Maps request keys onto canonical camelCase names, case-insensitively. The
 * documentation's own samples and the .NET SDK send PascalCase, so the real
 * service evidently binds case-insensitively. Nulls count as absent because the
 * SDK serialises unset properties as null. Unknown keys are dropped.
 */
export function canonical<K extends string>(
  raw: Record<string, unknown>,
  fields: readonly K[],
): Partial<Record<K, unknown>> {
  const byLower = new Map(fields.map((f) => [f.toLowerCase(), f] as const));
  const out: Partial<Record<K, unknown>> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = byLower.get(key.toLowerCase());
    if (name !== undefined && value !== null && value !== undefined) out[name] = value;
  }
  return out;
}

const BILLING_CYCLES: Record<string, BillingCycle> = {
  monthly: 'monthly',
  annual: 'annual',
  triennial: 'triennial',
  biennial: 'biennial',
  none: 'none',
  onetime: 'one_time',
  unknown: 'unknown',
};

/** Accepts the SDK's spellings (`one_time`, `oneTime`, `OneTime`) like its enum converter does. */
export function parseBillingCycle(value: unknown): Parsed<BillingCycle> {
  const cycle = typeof value === 'string' ? BILLING_CYCLES[value.replaceAll('_', '').toLowerCase()] : undefined;
  if (cycle === undefined) {
    return {
      ok: false,
      reply: pcError(
        400,
        900126,
        `Unable to parse enum: ${String(value)} For more information, please visit https://learn.microsoft.com/partner-center/developer/error-codes`,
      ),
    };
  }
  return { ok: true, value: cycle };
}

/** Line numbers must be exactly 0..n-1 (any order), as the service demands. */
export function checkLineNumbers(numbers: readonly unknown[]): Reply | undefined {
  const seen = new Set<number>();
  for (const n of numbers) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= numbers.length || seen.has(n)) {
      return pcError(400, 800071, 'Line Item number should be from 0 to number of line items count');
    }
    seen.add(n);
  }
  return undefined;
}

export const isPositiveInt = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;

export const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

export function renewsTo(value: unknown): { termDuration: string } | undefined {
  // Docs call it an array, every sample sends one object; accept both.
  const first = Array.isArray(value) ? value[0] : value;
  if (!isRecord(first)) return undefined;
  const term = canonical(first, ['termDuration'] as const).termDuration;
  return typeof term === 'string' ? { termDuration: term } : undefined;
}

/** Test hook: any offer/catalog id containing this marker fails the business checks. */
export const INVALID_OFFER_MARKER = 'INVALID';

export const invalidOffer = (id: string): Reply => pcError(400, 800004, 'Invalid offer Id', [id]);
