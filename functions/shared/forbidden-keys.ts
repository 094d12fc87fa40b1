// `__proto__` as a JSON key. The HTTP body parser refuses it (middy's reviver); events and direct invocations arrive
// already parsed by JSON.parse, which keeps it as an own property, and a schema then dropped it without a word
// (a provisioningContext entry named `__proto__` vanished: found by the reliability suites). They refuse it too.
import type { FieldError } from './errors.js';

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The field error for the first own `__proto__` key anywhere in `value` (iterative: any depth). */
export function forbiddenKey(value: unknown, prefix = ''): FieldError | undefined {
  const pending: [unknown, string][] = [[value, prefix]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, path] = next;
    if (node === null || typeof node !== 'object') continue;
    if (Object.hasOwn(node, '__proto__')) {
      return { path: `${path}/__proto__`, message: 'must not be used as a key' };
    }
    for (const [key, child] of Object.entries(node)) {
      if (child !== null && typeof child === 'object') pending.push([child, `${path}/${escapePointer(key)}`]);
    }
  }
  return undefined;
}
