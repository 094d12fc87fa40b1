// Who may read which customer (the Cedar action Read, functions/shared/policy/read.ts): the status function (order,
// cart, GET /purchases/{key}) and the catalog search ask the policy before reading anything. As deployed, whoever may
// buy for a customer may read it, and nobody else; the local server's allow-all permits every read.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createCatalogHandler } from '../../functions/catalog/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import type { PolicyEngine } from '../../functions/shared/policy/engine.js';
import { CedarEngine, loadPolicyFiles } from '../../functions/shared/policy/local.js';
import { ReadPolicy } from '../../functions/shared/policy/read.js';
import { createHandler as createStatusHandler } from '../../functions/status/handler.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const logs = captureLogs();

const BUYER_ROLE = 'arn:aws:iam::111122223333:role/Buyer';
const STRANGER_ROLE = 'arn:aws:iam::111122223333:role/Stranger';
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const BASIC = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';

/** The deployed policy files; the buyer is in "buyers" (or, `withMembers` false, nobody is in anything). */
function deployed(withMembers = true): PolicyEngine {
  const files = loadPolicyFiles();
  if (withMembers) {
    files.entities.push({
      uid: { type: 'PartnerOrders::Role', id: BUYER_ROLE },
      attrs: {},
      parents: [{ type: 'PartnerOrders::Group', id: 'buyers' }],
    });
  }
  return new CedarEngine(files);
}

const asRole = (role: string) => ({
  iam: { userArn: role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/').concat('/session-1') },
});
const as = (event: APIGatewayProxyEventV2, role?: string): APIGatewayProxyEventV2 => ({
  ...event,
  requestContext: {
    ...event.requestContext,
    ...(role ? { authorizer: asRole(role) } : {}),
  } as APIGatewayProxyEventV2['requestContext'],
});

describe('the read policy (action Read)', () => {
  let stack: Stack;
  let orderId: string;
  let cartId: string;
  const key = `read-${randomUUID()}`;
  const reads = () => stack.simulator.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/customers'));

  beforeAll(async () => {
    stack = await startStack({ idempotency: {} });
    const placed = await createOrderHandler(stack.deps)(
      as(
        httpEvent('POST /customers/{customerId}/orders', {
          pathParameters: { customerId: CUSTOMER },
          headers: { 'idempotency-key': key },
          body: { lineItems: [{ offerId: BASIC, quantity: 1, termDuration: 'P1Y' }] },
        }),
        BUYER_ROLE,
      ),
      lambdaContext(20_000),
    );
    expect(placed.statusCode).toBe(201);
    orderId = JSON.parse(placed.body ?? '{}').id;
    const cart = await stack.request('POST', `/customers/${CUSTOMER}/carts`, {
      lineItems: [{ catalogItemId: BASIC, quantity: 1, billingCycle: 'monthly', termDuration: 'P1Y' }],
    });
    cartId = cart.json.id;
  });
  afterAll(() => stack.stop());

  const status = (engine: PolicyEngine) =>
    createStatusHandler({
      ...stack.deps,
      journals: stack.deps.idempotency?.journals,
      readPolicy: new ReadPolicy(engine),
    });
  const catalog = (engine: PolicyEngine) => createCatalogHandler({ ...stack.deps, readPolicy: new ReadPolicy(engine) });

  const READS = () =>
    [
      ['order', 'GET /customers/{customerId}/orders/{orderId}', { customerId: CUSTOMER, orderId }, undefined],
      ['cart', 'GET /customers/{customerId}/carts/{cartId}', { customerId: CUSTOMER, cartId }, undefined],
      ['catalog', 'GET /customers/{customerId}/catalog', { customerId: CUSTOMER }, { search: 'Business Basic' }],
    ] as const;

  it('refuses a caller who may not buy for the customer: 403 policy-denied, Read, nothing read', async () => {
    const engine = deployed();
    for (const [what, route, pathParameters, query] of READS()) {
      const handler = what === 'catalog' ? catalog(engine) : status(engine);
      const before = reads().length;
      const result = await handler(
        as(httpEvent(route, { pathParameters, ...(query ? { query } : {}) }), STRANGER_ROLE),
        lambdaContext(20_000),
      );
      expect(result.statusCode, what).toBe(403);
      expect(JSON.parse(result.body ?? '{}'), what).toMatchObject({
        type: 'urn:partner-orders:problem:policy-denied',
        errors: [{ path: '/path/customerId' }],
        policy: {
          decision: 'deny',
          action: 'Read',
          principal: `PartnerOrders::Role::"${STRANGER_ROLE}"`,
          policies: [],
        },
      });
      expect(reads().length, what).toBe(before);
    }
    const audit = logs
      .lines()
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.audit === 'read-policy' && entry.decision === 'deny');
    expect(audit.map((entry) => entry.what)).toEqual(['order', 'cart', 'catalog']);
  });

  it('lets a buyer read the customers it may buy for', async () => {
    const engine = deployed();
    for (const [what, route, pathParameters, query] of READS()) {
      const handler = what === 'catalog' ? catalog(engine) : status(engine);
      const result = await handler(
        as(httpEvent(route, { pathParameters, ...(query ? { query } : {}) }), BUYER_ROLE),
        lambdaContext(20_000),
      );
      expect(result.statusCode, `${what}: ${result.body}`).toBe(200);
    }
  });

  it('GET /purchases/{key}: judged for the customer of each purchase found', async () => {
    const event = as(
      httpEvent('GET /purchases/{idempotencyKey}', { pathParameters: { idempotencyKey: key } }),
      BUYER_ROLE,
    );
    const allowed = await status(deployed())(event, lambdaContext(20_000));
    expect(allowed.statusCode).toBe(200);
    expect(JSON.parse(allowed.body ?? '{}').purchases[0]).toMatchObject({ customerId: CUSTOMER });
    // The same caller once nobody is in "buyers": its own key, but no longer its customer to read.
    const refused = await status(deployed(false))(event, lambdaContext(20_000));
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body ?? '{}')).toMatchObject({
      errors: [{ path: '/path/idempotencyKey' }],
      policy: { action: 'Read' },
    });
  });

  it('fails closed when the policy cannot be asked: 503, nothing read', async () => {
    const down: PolicyEngine = {
      name: 'down',
      entities: [],
      authorize: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const before = reads().length;
    const result = await status(down)(
      as(
        httpEvent('GET /customers/{customerId}/orders/{orderId}', {
          pathParameters: { customerId: CUSTOMER, orderId },
        }),
        BUYER_ROLE,
      ),
      lambdaContext(20_000),
    );
    expect(result.statusCode).toBe(503);
    expect(reads().length).toBe(before);
  });

  it('the local server (allow-all) lets every caller read', async () => {
    const local = await startStack({ policy: 'local' });
    try {
      const read = await local.request('GET', `/customers/${CUSTOMER}/catalog?search=Business`);
      expect(read.status).toBe(200);
    } finally {
      await local.stop();
    }
  });
});
