// `__proto__` as a JSON key. The HTTP body parser refuses it (middy's reviver); events and direct invocations arrive
// already parsed by JSON.parse, which keeps it as an own property, and a schema then dropped it without a word
// (a provisioningContext entry named `__proto__` vanished: found by the reliability suites). They refuse it too.
// The rule is middy's (`jsonParseProtectProto`): any `__proto__` key, and a `constructor` key whose value has its own
// `prototype` key. Every refusal names the key's own path (`/detail/lineItems/0/__proto__`), not the whole body.
import type { FieldError } from './errors.js';

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

const isForbidden = (node: object, key: '__proto__' | 'constructor') => {
  if (!Object.hasOwn(node, key)) return false;
  if (key === '__proto__') return true;
  const value = (node as Record<string, unknown>)[key];
  return value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype');
};

/** The field error for the first forbidden key anywhere in `value` (iterative: any depth). */
export function forbiddenKey(value: unknown, prefix = ''): FieldError | undefined {
  const pending: [unknown, string][] = [[value, prefix]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, path] = next;
    if (node === null || typeof node !== 'object') continue;
    for (const key of ['__proto__', 'constructor'] as const) {
      if (isForbidden(node, key)) return { path: `${path}/${key}`, message: 'must not be used as a key' };
    }
    for (const [key, child] of Object.entries(node)) {
      if (child !== null && typeof child === 'object') pending.push([child, `${path}/${escapePointer(key)}`]);
    }
  }
  return undefined;
}
