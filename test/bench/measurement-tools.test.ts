// The measurement tools' own logic: how `npm run bench:breakdown` names a remote call, how `npm run bench:cold` names
// the owner of bundled bytes and profiled time, and the options `npm run test:busy` takes.
import { describe, expect, it } from 'vitest';
import { categoryOf } from '../../bench/attribution.js';
import { kindOf, pathPattern, purposeOf, sequentialWaits } from '../../bench/breakdown.js';
import { bytesByOwner, ownerOf } from '../../bench/cold.js';
import { parseArgs } from '../../scripts/test-busy.js';

describe('bench:breakdown names each remote call by kind', () => {
  it('replaces ids in Partner Center paths, keeping the version and the resource names', () => {
    expect(pathPattern('/v1/customers/4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90/carts/Cs_jyTx1/checkout?x=1')).toBe(
      '/v1/customers/{id}/carts/{id}/checkout',
    );
    expect(pathPattern('/v1/customers/c/products/CFQ7TTC0LH18/skus/0001/availabilities')).toBe(
      '/v1/customers/c/products/{id}/skus/{id}/availabilities',
    );
  });

  it('AWS calls by service and operation, catalog reads apart from other Partner Center calls', () => {
    expect(kindOf({ method: 'POST', path: '/', target: 'DynamoDB_20120810.PutItem' })).toEqual({
      kind: 'DynamoDB PutItem',
      group: 'DynamoDB',
    });
    expect(kindOf({ method: 'POST', path: '/', target: 'VerifiedPermissions.BatchIsAuthorized' })).toEqual({
      kind: 'Verified Permissions BatchIsAuthorized',
      group: 'Verified Permissions',
    });
    expect(kindOf({ method: 'GET', path: '/v1/customers/c1/products/P1/skus/S1' }).group).toBe('catalog reads');
    expect(kindOf({ method: 'GET', path: '/v1/customers/c1/carts/cart9' })).toEqual({
      kind: 'Partner Center GET /v1/customers/{id}/carts/{id}',
      group: 'Partner Center',
    });
    expect(kindOf({ method: 'POST', path: '/bench-tenant/oauth2/token' }).group).toBe('Entra ID');
  });
});

describe('bench:breakdown says what each remote call is for', () => {
  const dynamo = (operation: string, body: object) => ({
    method: 'POST',
    path: '/',
    target: `DynamoDB_20120810.${operation}`,
    chunks: [JSON.stringify(body)],
  });
  it('DynamoDB items by id prefix and update expression: journal, pointer, duplicate record, Powertools', () => {
    const journal = { Key: { id: { S: 'partner-orders#journal#ab12' } } };
    expect(purposeOf(dynamo('GetItem', journal))).toMatch(/^journal read/);
    expect(
      purposeOf(
        dynamo('UpdateItem', {
          ...journal,
          UpdateExpression: 'SET #cart = if_not_exists(#cart, :cart), #placed = :maybe',
        }),
      ),
    ).toBe('journal: cart + "may be placed" (one write)');
    expect(
      purposeOf(dynamo('UpdateItem', { ...journal, UpdateExpression: 'SET #expiration = :e REMOVE #unresolved' })),
    ).toMatch(/^journal: settled/);
    expect(purposeOf(dynamo('UpdateItem', { Key: { id: { S: 'partner-orders#key#ff' } } }))).toMatch(/^key pointer/);
    expect(purposeOf(dynamo('GetItem', { Key: { id: { S: 'partner-orders#recent#c#d' } } }))).toBe(
      'duplicate guard: read',
    );
    expect(purposeOf(dynamo('PutItem', { Item: { id: { S: 'partner-orders#4WkmTbN0C6yYh0F3Nv1n3w==' } } }))).toMatch(
      /lock/,
    );
    expect(purposeOf({ method: 'GET', path: '/v1/customers/c1/carts/cart9' })).toMatch(/^policy: cart read/);
    expect(purposeOf({ method: 'POST', path: '/v1/customers/c1/carts/cart9/checkout' })).toBe(
      'Partner Center: checkout',
    );
  });

  it('calls made side by side are one wait; one after another, one each', () => {
    const call = (start: number, end: number) => ({ method: 'GET', path: '/', start, end });
    expect(sequentialWaits([call(0, 5), call(1, 4), call(2, 6), call(6, 8), call(9, 10)])).toBe(3);
    expect(sequentialWaits([])).toBe(0);
  });

  it('profile owners by whose code they are', () => {
    expect(categoryOf('functions/shared/exactly-once')).toBe('ours');
    expect(categoryOf('@smithy/core')).toMatch(/^AWS SDK/);
    expect(categoryOf('native: writev')).toMatch(/^HTTP and sockets/);
    expect(categoryOf('(garbage collector)')).toBe('garbage collector');
  });
});

describe('bench:cold names who owns bytes and time', () => {
  it('a package by its (scoped) name, our code by its folder', () => {
    expect(ownerOf('node_modules/@aws-sdk/client-dynamodb/dist-es/index.js')).toBe('@aws-sdk/client-dynamodb');
    expect(ownerOf('../../node_modules/zod/v4/mini/schemas.js')).toBe('zod');
    expect(ownerOf('functions/shared/policy/check.ts')).toBe('functions/shared/policy');
    expect(ownerOf('functions/shared/log.ts')).toBe('functions/shared/log');
  });

  it('sums the metafile by owner', () => {
    const metafile = {
      inputs: {},
      outputs: {
        'index.mjs': {
          bytes: 30,
          inputs: {
            'node_modules/zod/a.js': { bytesInOutput: 10 },
            'node_modules/zod/b.js': { bytesInOutput: 5 },
            'functions/shared/log.ts': { bytesInOutput: 15 },
          },
          imports: [],
          exports: [],
        },
      },
    };
    expect(Object.fromEntries(bytesByOwner(metafile))).toEqual({ zod: 15, 'functions/shared/log': 15 });
  });
});

describe('test:busy options', () => {
  it('runs, load and test files', () => {
    expect(parseArgs(['--runs', '3', 'test/a.test.ts', '--load', '4'])).toEqual({
      runs: 3,
      load: 4,
      files: ['test/a.test.ts'],
    });
    expect(parseArgs([]).runs).toBe(1);
    expect(() => parseArgs(['--runs', '0'])).toThrow(/positive whole number/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
  });
});
