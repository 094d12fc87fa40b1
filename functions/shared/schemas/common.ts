// Building blocks shared by the order and cart payloads. `zod/mini` keeps the Lambda bundle ~13 KB instead of
// ~450 KB for classic zod (see README, "Cold start"); it is the same zod v4 engine with a functional API.
import * as z from 'zod/mini';

/** Most line items one order or cart may carry (Partner Center's own carts stay far below this). */
export const MAX_LINE_ITEMS = 100;
/** Largest accepted request body, in bytes: beyond it the API answers 413 before parsing. */
export const MAX_BODY_BYTES = 256 * 1024;
/** A guard against fat-finger quantities; Partner Center enforces its own per-offer seat limits (800088). */
export const MAX_QUANTITY = 10_000;

// Spelled out rather than with the /i flag: JSON Schema (OpenAPI) patterns have no flags.
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const guid = (what: string) => z.string().check(z.regex(GUID, { error: `must be a GUID (${what})` }));

/** Non-empty bounded text, the shape of every free-form field we forward. */
export const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * ISO 8601 duration of one unit, as Partner Center uses them: P1M, P1Y, P3Y, P7D. Read in any case (`p1y`), as
 * Partner Center reads its enums, and always sent upper case.
 */
export const termDuration = z.pipe(
  z
    .string()
    .check(z.regex(/^[Pp][1-9]\d{0,2}[DWMYdwmy]$/, { error: 'must be an ISO 8601 duration such as P1M, P1Y or P3Y' })),
  z.transform((value: string) => value.toUpperCase()),
);

/** Partner Center's `Dictionary<string,string>`: keys come from the SKU's provisioningVariables. */
export const provisioningContext = z
  .record(text(128), z.string().check(z.maxLength(2048)))
  .check(z.refine((record) => Object.keys(record).length <= 50, { error: 'must have at most 50 entries' }));

/** A reseller's MPN id (partner of record): digits only. */
export const mpnId = z.string().check(z.regex(/^\d{1,12}$/, { error: 'must be an MPN id (digits)' }));

/**
 * Partner Center writes enums in lower snake case and reads `one_time`, `oneTime` and `OneTime` alike
 * (the .NET SDK's EnumJsonConverter). We accept the same spellings and always send snake case.
 */
const SNAKE_CASE = /^[a-z0-9_]*$/;
const snakeCase = (value: string) =>
  // Already lower snake case (what Partner Center writes, and most callers send): nothing to trim, split or lower.
  SNAKE_CASE.test(value)
    ? value
    : value
        .trim()
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .toLowerCase();

export const normalisedEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.pipe(
    z.string().check(z.maxLength(64)),
    z.pipe(z.transform(snakeCase), z.enum(values, { error: `must be one of: ${values.join(', ')}` })),
  );

/** Billing cycles a purchase may ask for. `unknown` is never sent: trials use `none` (Partner-Center-PowerShell#123). */
export const BILLING_CYCLES = ['monthly', 'annual', 'triennial', 'none', 'one_time'] as const;
export const billingCycle = normalisedEnum(BILLING_CYCLES);
export type BillingCycle = (typeof BILLING_CYCLES)[number];

/**
 * Line numbers are either given on every line (then they must be 0..n-1, each once: Partner Center error 800071)
 * or on none (then they are assigned in order). A mix is refused rather than guessed.
 */
export function checkLineNumbers(numbers: (number | undefined)[], field: string): string | undefined {
  const given = numbers.filter((n) => n !== undefined);
  if (given.length === 0) return undefined;
  if (given.length !== numbers.length) return `give ${field} on every line item or on none`;
  const seen = new Set(given);
  if (seen.size !== given.length) return `${field} values must be unique`;
  if (given.some((n) => n >= numbers.length)) return `${field} values must run from 0 to ${numbers.length - 1}`;
  return undefined;
}
