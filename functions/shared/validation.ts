// Turns zod issues into field errors a person can act on. zod/mini ships no message locale (that is what keeps
// it small), so the wording lives here, in one place.
import * as z from 'zod/mini';
import { type FieldError, ValidationError } from './errors.js';
import { logger } from './log.js';
import { suggestName } from './suggest.js';

type Issue = z.core.$ZodIssue;

const pointer = (prefix: string, path: PropertyKey[]) =>
  prefix + path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** What an unknown key was probably meant to be, kept on its issue by `raising` below. */
type WithSuggestions = { suggestions?: Record<string, string> };

const IS_REQUIRED = 'is required';

function describe(issue: Issue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'undefined' || issue.expected === 'never') return 'is not allowed here';
      // JSON.parse turns a number too large for a double (1e400) into ±Infinity, which zod names as `received`.
      const received = (issue as { received?: unknown }).received;
      if (received === 'Infinity' || received === '-Infinity') {
        return `is out of range (it parses to ${received}): must be a finite number`;
      }
      return `must be ${issue.expected === 'int' ? 'an integer' : `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}`}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string')
        return issue.minimum === 1 ? 'must not be empty' : `must have at least ${issue.minimum} characters`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} item(s)`;
      if (issue.origin === 'string') return `must have at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `must match the ${issue.format} format`;
    case 'invalid_union':
      return 'does not match any accepted shape';
    default:
      return 'is not valid';
  }
}

/** The known key an unknown one was probably meant to be (`OfferId` → `offerId`, `quantiy` → `quantity`). */
export const suggestKey = (unknown: string, known: readonly string[]) => suggestName(unknown, known);

/**
 * The parse parameters every request part is validated with: an error map that zod calls while the issue still has
 * the input and the schema that raised it (both are dropped from the finished issue), for the messages that need
 * them. Schemas' own messages still win.
 */
export const ISSUE_PARAMS: z.core.ParseContext<z.core.$ZodIssue> = {
  error: (issue) => {
    // A key that is not there (JSON has no `undefined`): "is required", not "must be an array".
    if (
      issue.input === undefined &&
      (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value') &&
      !(issue.code === 'invalid_type' && (issue.expected === 'undefined' || issue.expected === 'never'))
    ) {
      return IS_REQUIRED;
    }
    if (issue.code === 'unrecognized_keys') {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def
        ?.shape;
      const input = issue.input as Record<string, unknown> | undefined;
      if (shape) {
        const known = Object.keys(shape);
        const suggestions: Record<string, string> = {};
        for (const key of issue.keys) {
          const suggestion = suggestKey(key, known);
          // Not when the caller also gave the suggested key: then the unknown one is just extra.
          if (suggestion !== undefined && !(input && Object.hasOwn(input, suggestion))) suggestions[key] = suggestion;
        }
        // Kept on the issue (zod copies the issue's own keys into the finished one) for describeIssues.
        (issue as WithSuggestions).suggestions = suggestions;
      }
    }
    return undefined;
  },
};

/** One field error per offending field; an unknown key is reported at its own path, so nothing is silently dropped. */
export function describeIssues(issues: readonly Issue[], prefix: string): FieldError[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [{ path: pointer(prefix, issue.path), message: describe(issue) }];
    const suggestions = (issue as WithSuggestions).suggestions;
    return issue.keys.map((key) => {
      const suggestion = suggestions && Object.hasOwn(suggestions, key) ? suggestions[key] : undefined;
      return {
        path: pointer(prefix, [...issue.path, key]),
        message:
          suggestion === undefined
            ? 'is not a known field'
            : `is not a known field: did you mean ${suggestion}?${suggestion.toLowerCase() === key.toLowerCase() ? ' (keys are case-sensitive)' : ''}`,
      };
    });
  });
}

/** Per schema: how often it was used before being compiled, or its compiled form. */
const compiledSchemas = new WeakMap<z.ZodMiniType, z.ZodMiniType | number>();

/**
 * The schema as zod's ahead-of-time compiler makes it (`z.compile`): a generated parser for the accepted case, 4–7×
 * faster than zod/mini's interpreter, which it falls back to for any input the fast path does not accept, so refusals
 * and their issues are the interpreter's own; an accepted value is the one the interpreter would produce
 * (test/bench/compiled-schemas.test.ts). Compiling takes a few ms per schema, so it happens on a schema's second use:
 * the first request of a container (the cold one) never waits for the compiler. A schema zod cannot compile is used
 * as it is.
 */
export function compiled<T>(schema: z.ZodMiniType<T>): z.ZodMiniType<T> {
  const known = compiledSchemas.get(schema);
  if (typeof known === 'object') return known as z.ZodMiniType<T>;
  if (known === undefined) {
    compiledSchemas.set(schema, 1);
    return schema;
  }
  const fast = z.compile(schema);
  compiledSchemas.set(schema, fast);
  return fast as z.ZodMiniType<T>;
}

/** Parses one part of a request (`body`, `path`, `query`, `headers`) or throws a 400 naming every bad field. */
export function parse<T>(schema: z.ZodMiniType<T>, value: unknown, part: string): T {
  const result = compiled(schema).safeParse(value, ISSUE_PARAMS);
  if (result.success) return result.data;
  throw new ValidationError(describeIssues(result.error.issues, `/${part}`));
}

/** Parses every part of a request, so that one 400 names the bad fields of all of them. */
export function parseParts<T extends Record<string, unknown>>(
  parts: { [K in keyof T]: [schema: z.ZodMiniType<T[K]>, value: unknown] },
  /** Where each part's errors point: `/body/…` for HTTP; `` for a flat payload. */
  prefixOf: (part: string) => string = (part) => `/${part}`,
): T {
  const parsed: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const part in parts) {
    const [schema, value] = parts[part];
    const result = compiled(schema as z.ZodMiniType).safeParse(value, ISSUE_PARAMS);
    if (result.success) parsed[part] = result.data;
    // Not push(...all): a payload with ~100k bad keys would pass that many arguments and overflow the stack (500).
    else for (const error of describeIssues(result.error.issues, prefixOf(part))) errors.push(error);
  }
  if (errors.length > 0) {
    if (logger.isEnabled('DEBUG')) {
      logger.debug('request refused by validation', { errorCount: errors.length, errors: errors.slice(0, 20) });
    }
    throw new ValidationError(errors);
  }
  if (logger.isEnabled('DEBUG')) logger.debug('request validated', validatedSummary(parsed));
  return parsed as T;
}

/**
 * What a DEBUG line says about a validated request: each part's field names (the schemas' own names, never a value)
 * and how many line items it has.
 */
function validatedSummary(parsed: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, string[]> = {};
  let lineItems: number | undefined;
  for (const part in parsed) {
    const value = parsed[part];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    fields[part] = Object.keys(value);
    const items = (value as { lineItems?: unknown }).lineItems;
    if (Array.isArray(items)) lineItems = items.length;
  }
  return { fields, ...(lineItems === undefined ? {} : { lineItems }) };
}
