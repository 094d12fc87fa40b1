// Turns zod issues into field errors a person can act on. zod/mini ships no message locale (that is what keeps
// it small), so the wording lives here, in one place.
import * as z from 'zod/mini';
import { type FieldError, ValidationError } from './errors.js';

type Issue = z.core.$ZodIssue;

const pointer = (prefix: string, path: PropertyKey[]) =>
  prefix + path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

function describe(issue: Issue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'undefined' || issue.expected === 'never'
        ? 'is not allowed here'
        : `must be ${issue.expected === 'int' ? 'an integer' : `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}`}`;
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

/** One field error per offending field; an unknown key is reported at its own path, so nothing is silently dropped. */
export function describeIssues(issues: readonly Issue[], prefix: string): FieldError[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pointer(prefix, [...issue.path, key]), message: 'is not a known field' }))
      : [{ path: pointer(prefix, issue.path), message: describe(issue) }],
  );
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
  const result = compiled(schema).safeParse(value);
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
    const result = compiled(schema as z.ZodMiniType).safeParse(value);
    if (result.success) parsed[part] = result.data;
    // Not push(...all): a payload with ~100k bad keys would pass that many arguments and overflow the stack (500).
    else for (const error of describeIssues(result.error.issues, prefixOf(part))) errors.push(error);
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return parsed as T;
}
