// The forbidden-key rule (middy's) and where a refusal points: at the key itself, on every entry point.
import { describe, expect, it } from 'vitest';
import { forbiddenKey, forbiddenKeyInJson } from '../../functions/shared/forbidden-keys.js';

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

  it('finds the key in a JSON text that a reviver refused without saying where (the HTTP body parser)', () => {
    expect(forbiddenKeyInJson('{"lineItems":[{"offerId":"x","__proto__":{"admin":true}}]}', '/body')).toEqual({
      path: '/body/lineItems/0/__proto__',
      message: 'must not be used as a key',
    });
    expect(forbiddenKeyInJson('{"lineItems":[', '/body')).toBeUndefined();
    expect(forbiddenKeyInJson('{"lineItems":[]}', '/body')).toBeUndefined();
  });
});
