// The forbidden-key rule (middy's) and where a refusal points: at the key itself, on every entry point.
import { describe, expect, it } from 'vitest';
import { forbiddenKey } from '../../functions/shared/forbidden-keys.js';

describe('forbidden keys', () => {
  it('names the path of a __proto__ key at any depth', () => {
    expect(forbiddenKey(JSON.parse('{"lineItems":[{"provisioningContext":{"__proto__":"x"}}]}'), '/detail')).toEqual({
      path: '/detail/lineItems/0/provisioningContext/__proto__',
      message: 'must not be used as a key',
    });
  });

  it('refuses constructor only with an own prototype, as middy does', () => {
    expect(forbiddenKey({ a: { constructor: 'x' } })).toBeUndefined();
    expect(forbiddenKey(JSON.parse('{"a/b":{"constructor":{"prototype":{}}}}'))).toEqual({
      path: '/a~1b/constructor',
      message: 'must not be used as a key',
    });
  });
});
