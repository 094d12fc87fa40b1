// The purchase policy at every entry point (HTTP with SigV4 and with a JWT, events, direct invocation, dry run), with
// the repository's own policy files as deployed (policies/*.cedar: default deny, the permits, the guardrails) and
// test members in their groups. Each guardrail kind is shown allowing and refusing; a refusal sends nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createCartHandler } from '../../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { Preflight } from '../../functions/shared/catalog/preflight.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import type { PolicyEngine } from '../../functions/shared/policy/engine.js';
import { CedarEngine, loadPolicyFiles } from '../../functions/shared/policy/local.js';
import type { EntityJson } from '../../functions/shared/policy/model.js';
import { denialPattern } from '../../infra/authorization.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { invokeCart, invokeOrder } from '../support/invoke.js';
import { SCOPES, startTokenIssuer, type TokenIssuer, withAuthorizer, withBearer } from '../support/jwt.js';
import { captureLogs } from '../support/logs.js';
import { ALLOW_ALL_POLICY } from '../support/policy.js';
import { eventBridgeEvent, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const logs = captureLogs();

const ACCOUNT = '111122223333';
const BUYER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Buyer`;
const STRANGER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Stranger`;
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Scheduler`; // a buyer, and automation
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const CONTOSO_CUSTOMER = '0b6f1c3e-2d4a-4e8b-9c7d-1a2b3c4d5e6f';
const BASIC = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S'; // approved for automation
const UNAPPROVED = 'CFQ7TTC0LFLZ:0001:CFQ7TTC0K4RX';

const member = (type: string, id: string, ...groups: [string, string][]): EntityJson => ({
  uid: { type: `PartnerOrders::${type}`, id },
  attrs: {},
  parents: groups.map(([t, g]) => ({ type: `PartnerOrders::${t}`, id: g })),
});

/** The deployed policy files, with test members: who is in which group is the only thing the tests add. */
function deployedWithMembers(): PolicyEngine {
  const files = loadPolicyFiles();
  files.entities.push(
    member('Role', BUYER_ROLE, ['Group', 'buyers']),
    member('Role', SCHEDULER_ROLE, ['Group', 'buyers'], ['Group', 'automation']),
    member('Producer', 'com.example.crm', ['Group', 'buyers']),
    member('TokenGroup', 'groups:Purchasers', ['Group', 'buyers']),
    member('Producer', 'com.example.billing', ['Group', 'buyers'], ['Group', 'automation']),
    member('Producer', 'com.contoso.billing', ['Group', 'contoso-systems'], ['Group', 'automation']),
    member('Invoker', 'invoke', ['Group', 'buyers'], ['Group', 'automation']),
    member('Customer', CONTOSO_CUSTOMER, ['CustomerGroup', 'contoso']),
  );
  return new CedarEngine(files);
}

const asRole = (role: string) => ({
  iam: { userArn: role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/').concat('/session-1') },
});
/** JWT mode: a bearer token of the test issuer, verified by the function (the authorizer context is never read). */
const asUser = (sub: string, groups?: string[]) => ({
  bearer: { sub, scope: SCOPES.purchase, ...(groups ? { groups } : {}) },
});

const ORDERS = 'POST /customers/{customerId}/orders';
const CARTS = 'POST /customers/{customerId}/carts';
const CHECKOUT = 'POST /customers/{customerId}/carts/{cartId}/checkout';

describe('the purchase policy at every entry point', () => {
  let stack: Stack;
  let order: ReturnType<typeof createOrderHandler>;
  let cart: ReturnType<typeof createCartHandler>;
  let events: ReturnType<typeof recordingEventsHandler>;
  let issuer: TokenIssuer;
  let jwtOrder: ReturnType<typeof createOrderHandler>;
  let engine: PolicyEngine;
  let asked = 0;

  beforeAll(async () => {
    const deployed = deployedWithMembers();
    // Counts the engine's calls, so a test can tell that a replay asked nothing.
    engine = {
      name: deployed.name,
      entities: deployed.entities,
      authorize: (query, deadline) => {
        asked += 1;
        return deployed.authorize(query, deadline);
      },
    };
    stack = await startStack({ idempotency: {}, policy: new PurchasePolicy(engine) });
    order = createOrderHandler(stack.deps);
    cart = createCartHandler(stack.deps);
    events = recordingEventsHandler(stack.deps);
    issuer = await startTokenIssuer();
    jwtOrder = createOrderHandler({ ...stack.deps, identity: issuer.identity() });
  });
  afterAll(async () => {
    await stack.stop();
    await issuer.stop();
  });
  beforeEach(() => {
    events.published.splice(0);
    logs.clear();
  });

  const purchases = () => stack.simulator.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/v1/'));

  /** An HTTP request as API Gateway hands it over after its authorizer, with a fresh key. */
  async function http(
    routeKey: string,
    authorizer: unknown,
    body: unknown,
    options: { customerId?: string; cartId?: string; query?: Record<string, string>; key?: string } = {},
    // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
  ): Promise<{ status: number; json: any }> {
    const bearer = (authorizer as { bearer?: Record<string, unknown> }).bearer;
    const handler = bearer ? jwtOrder : routeKey === ORDERS || routeKey.startsWith('PATCH') ? order : cart;
    const event = httpEvent(routeKey, {
      pathParameters: {
        customerId: options.customerId ?? CUSTOMER,
        ...(options.cartId ? { cartId: options.cartId } : {}),
      },
      headers: options.query?.dryRun ? {} : { 'idempotency-key': options.key ?? `policy-${randomUUID()}` },
      ...(options.query ? { query: options.query } : {}),
      ...(body === undefined ? {} : { body }),
    });
    const result = await handler(
      bearer ? withBearer(event, issuer.token(bearer)) : withAuthorizer(event, authorizer),
      lambdaContext(20_000),
    );
    return { status: result.statusCode ?? 0, json: JSON.parse(result.body ?? 'null') };
  }

  /**
   * A command event from `source`, through the real consumer; answers the outcome it published. Its detail carries
   * the producer's idempotency key, as producers must, unless it names its own.
   */
  async function put(source: string, detailType: 'CreateOrder' | 'CreateCart', detail: object) {
    events.published.splice(0);
    const keyed = { idempotencyKey: `event-${randomUUID()}`, ...detail };
    const result = await events.handler(
      sqsEvent([sqsRecord(eventBridgeEvent(detailType, keyed, { source }))]),
      lambdaContext(50_000),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(events.published).toHaveLength(1);
    return events.published[0];
  }

  /** A direct invocation of invoke-purchase (always the principal `Invoker::"invoke"`). */
  const invoke = (
    payload: Record<string, unknown>,
    handler: ReturnType<typeof invokeOrder> = invokeOrder(stack.deps),
    // biome-ignore lint/suspicious/noExplicitAny: tests read answers of every shape
  ): Promise<any> => handler({ idempotencyKey: `invoke-${randomUUID()}`, ...payload }, lambdaContext(20_000));

  const cartLineOf = (catalogItemId: string) => ({ catalogItemId, quantity: 1, billingCycle: 'monthly' });
  const orderBody = (lines: Record<string, unknown>[], more: Record<string, unknown> = {}) => ({
    lineItems: lines.map((line) => ({ offerId: BASIC, quantity: 5, termDuration: 'P1Y', ...line })),
    ...more,
  });

  describe('who may buy for whom (default deny)', () => {
    it('HTTP with SigV4: a role in "buyers" may buy; a role in no group is refused, naming the customer', async () => {
      const allowed = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{}]));
      expect(allowed.status).toBe(201);

      const before = purchases().length;
      const refused = await http(ORDERS, asRole(STRANGER_ROLE), orderBody([{}]));
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({
        type: 'urn:partner-orders:problem:policy-denied',
        status: 403,
        errors: [{ path: '/path/customerId' }],
        policy: {
          decision: 'deny',
          action: 'CreateOrder',
          principal: `PartnerOrders::Role::"${STRANGER_ROLE}"`,
          policies: [],
        },
      });
      expect(refused.json.detail).toContain('no policy permits');
      expect(purchases().length).toBe(before);
    });

    it('HTTP with a JWT (verified in the function): its groups count; a subject in none is refused', async () => {
      const allowed = await http(ORDERS, asUser('alice', ['Readers', 'Purchasers']), orderBody([{}]));
      expect(allowed.status).toBe(201);
      const refused = await http(ORDERS, asUser('mallory', ['Readers']), orderBody([{}]));
      expect(refused.status).toBe(403);
      expect(refused.json.policy.principal).toBe(`PartnerOrders::User::"${issuer.url}|mallory"`);
      // An app role named like the group is not the group: the claims are kept apart.
      const role = await http(
        ORDERS,
        { bearer: { sub: 'eve', scope: SCOPES.purchase, roles: ['Purchasers'] } },
        orderBody([{}]),
      );
      expect(role.status).toBe(403);
    });

    it('events: a producer in "contoso-systems" buys for contoso’s customers only', async () => {
      const allowed = await put('com.contoso.billing', 'CreateOrder', {
        customerId: CONTOSO_CUSTOMER,
        ...orderBody([{}]),
      });
      expect(allowed?.detailType).toBe('OrderCreated');

      const refused = await put('com.contoso.billing', 'CreateOrder', { customerId: CUSTOMER, ...orderBody([{}]) });
      expect(refused?.detailType).toBe('OrderRejected');
      expect(refused?.detail.problem).toMatchObject({
        type: 'urn:partner-orders:problem:policy-denied',
        status: 403,
        errors: [{ path: '/detail/customerId' }],
        policy: { principal: 'PartnerOrders::Producer::"com.contoso.billing"', policies: [] },
      });
    });

    it('events: a source nobody named is refused', async () => {
      const refused = await put('com.example.unknown', 'CreateOrder', { customerId: CUSTOMER, ...orderBody([{}]) });
      expect(refused?.detail.problem).toMatchObject({ status: 403, policy: { action: 'CreateOrder' } });
    });
  });

  describe('guardrails, each allowing and refusing', () => {
    it('seats per line: 300 pass, 301 are refused at the line’s quantity (HTTP, events, invoke)', async () => {
      expect((await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 300 }]))).status).toBe(201);
      const before = purchases().length;

      const overHttp = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 5 }, { quantity: 301 }]));
      expect(overHttp.status).toBe(403);
      expect(overHttp.json).toMatchObject({
        errors: [
          {
            path: '/body/lineItems/1/quantity',
            message: 'at most 300 seats per line item (policy max-300-seats-per-line)',
          },
        ],
        policy: { policies: ['max-300-seats-per-line'] },
      });

      const overEvent = await put('com.example.billing', 'CreateOrder', {
        customerId: CUSTOMER,
        ...orderBody([{ quantity: 301 }]),
      });
      expect(overEvent?.detail.problem?.errors).toEqual([
        { path: '/detail/lineItems/0/quantity', message: expect.stringContaining('max-300-seats-per-line') },
      ]);

      const overInvoke = await invoke({ customerId: CUSTOMER, ...orderBody([{ quantity: 301 }]) });
      expect(overInvoke).toMatchObject({ status: 403, errors: [{ path: '/lineItems/0/quantity' }] });
      expect(purchases().length).toBe(before);
    });

    it('seats per request: 1000 pass, 1001 are refused at the line items', async () => {
      const lines = (last: number) => [{ quantity: 300 }, { quantity: 300 }, { quantity: 300 }, { quantity: last }];
      expect((await http(ORDERS, asRole(BUYER_ROLE), orderBody(lines(100)))).status).toBe(201);
      const refused = await http(ORDERS, asRole(BUYER_ROLE), orderBody(lines(101)));
      expect(refused.status).toBe(403);
      expect(refused.json.errors).toEqual([
        { path: '/body/lineItems', message: 'at most 1000 seats in one request (policy max-1000-seats-per-request)' },
      ]);
    });

    it('products: automation buys approved products only; a person is not bound by the list', async () => {
      const approved = await put('com.example.billing', 'CreateOrder', { customerId: CUSTOMER, ...orderBody([{}]) });
      expect(approved?.detailType).toBe('OrderCreated');
      const refused = await put('com.example.billing', 'CreateOrder', {
        customerId: CUSTOMER,
        ...orderBody([{}, { offerId: UNAPPROVED }]),
      });
      expect(refused?.detail.problem).toMatchObject({
        errors: [{ path: '/detail/lineItems/1/offerId' }],
        policy: { policies: ['automation-approved-products-only'] },
      });
      expect((await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ offerId: UNAPPROVED }]))).status).toBe(201);
    });

    it('terms: automation may not buy P3Y, a person may', async () => {
      const refused = await invoke({ customerId: CUSTOMER, ...orderBody([{ termDuration: 'P3Y' }]) });
      expect(refused).toMatchObject({
        status: 403,
        errors: [{ path: '/lineItems/0/termDuration' }],
        policy: { principal: 'PartnerOrders::Invoker::"invoke"', policies: ['automation-no-three-year-terms'] },
      });
      expect((await invoke({ customerId: CUSTOMER, ...orderBody([{ termDuration: 'P1Y' }]) })).id).toMatch(/^Cs_/);
      expect((await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ termDuration: 'P3Y' }]))).status).toBe(201);
    });

    it('billing cycles: automation may not bill triennially (an order’s cycle is the order’s field)', async () => {
      const refused = await put('com.example.billing', 'CreateOrder', {
        customerId: CUSTOMER,
        ...orderBody([{}], { billingCycle: 'triennial' }),
      });
      expect(refused?.detail.problem).toMatchObject({
        errors: [{ path: '/detail/billingCycle' }],
        policy: { policies: ['automation-no-triennial-billing'] },
      });
      const monthly = await put('com.example.billing', 'CreateOrder', {
        customerId: CUSTOMER,
        ...orderBody([{}], { billingCycle: 'monthly' }),
      });
      expect(monthly?.detailType).toBe('OrderCreated');
    });

    it('trials: automation may not start one (billing cycle none on a cart line)', async () => {
      const line = { catalogItemId: BASIC, quantity: 1, termDuration: 'P1M' };
      const refused = await put('com.example.billing', 'CreateCart', {
        customerId: CUSTOMER,
        lineItems: [
          { ...line, billingCycle: 'monthly' },
          { ...line, billingCycle: 'none' },
        ],
      });
      expect(refused?.detail.problem).toMatchObject({
        errors: [{ path: '/detail/lineItems/1/billingCycle' }],
        policy: { action: 'CreateCart', policies: ['automation-no-trials'] },
      });
      const allowed = await put('com.example.billing', 'CreateCart', {
        customerId: CUSTOMER,
        lineItems: [{ ...line, billingCycle: 'monthly' }],
      });
      expect(allowed?.detailType).toBe('CartCreated');
    });

    it('add-ons: automation may not add them, a person may', async () => {
      const created = await invoke({ customerId: CUSTOMER, ...orderBody([{}]) });
      const addOn = {
        customerId: CUSTOMER,
        orderId: created.id,
        lineItems: [
          {
            offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ',
            quantity: 1,
            termDuration: 'P1Y',
            parentSubscriptionId: created.lineItems[0].subscriptionId,
          },
        ],
      };
      expect(await invoke(addOn)).toMatchObject({
        status: 403,
        errors: [{ path: '/orderId' }],
        policy: { action: 'AddOn', policies: ['automation-no-add-ons'] },
      });
      const { customerId, orderId, ...body } = addOn;
      const event = httpEvent('PATCH /customers/{customerId}/orders/{orderId}', {
        pathParameters: { customerId, orderId },
        headers: { 'idempotency-key': `policy-${randomUUID()}` },
        body,
      });
      const result = await order(withAuthorizer(event, asRole(BUYER_ROLE)), lambdaContext(20_000));
      expect(result.statusCode).toBe(200);
    });
  });

  describe('every guardrail, allowing and refusing, at every entry point', () => {
    type Entry = 'HTTP' | 'events' | 'direct invoke' | 'dry run';
    type Kind = 'order' | 'add-on' | 'cart';
    const ENTRIES: Entry[] = ['HTTP', 'events', 'direct invoke', 'dry run'];
    let parent: { orderId: string; subscriptionId: string };
    beforeAll(async () => {
      const made = await invoke(
        { customerId: CUSTOMER, ...orderBody([{}]) },
        invokeOrder({ ...stack.deps, policy: ALLOW_ALL_POLICY }),
      );
      parent = { orderId: made.id, subscriptionId: made.lineItems[0].subscriptionId };
    });

    /** The purchase through one entry point, as automation or as a person; its status and, refused, its problem. */
    async function attempt(entry: Entry, kind: Kind, automation: boolean, body: Record<string, unknown>) {
      const payload = kind === 'add-on' ? { ...body, orderId: parent.orderId } : body;
      if (entry === 'events') {
        const outcome = await put(
          automation ? 'com.example.billing' : 'com.example.crm',
          kind === 'cart' ? 'CreateCart' : 'CreateOrder',
          { customerId: CUSTOMER, ...payload },
        );
        return outcome?.detailType === 'OrderRejected'
          ? { status: outcome.detail.problem?.status ?? 0, problem: outcome.detail.problem }
          : { status: 201 };
      }
      if (entry === 'direct invoke') {
        const result = await invoke(
          { customerId: CUSTOMER, ...payload },
          kind === 'cart' ? invokeCart(stack.deps) : invokeOrder(stack.deps),
        );
        return typeof result.status === 'number' ? { status: result.status, problem: result } : { status: 201 };
      }
      const route =
        kind === 'cart' ? CARTS : kind === 'add-on' ? 'PATCH /customers/{customerId}/orders/{orderId}' : ORDERS;
      const event = httpEvent(route, {
        pathParameters: { customerId: CUSTOMER, ...(kind === 'add-on' ? { orderId: parent.orderId } : {}) },
        headers: entry === 'dry run' ? {} : { 'idempotency-key': `policy-${randomUUID()}` },
        ...(entry === 'dry run' ? { query: { dryRun: 'true' } } : {}),
        body,
      });
      const handler = kind === 'cart' ? cart : order;
      const result = await handler(
        withAuthorizer(event, asRole(automation ? SCHEDULER_ROLE : BUYER_ROLE)),
        lambdaContext(20_000),
      );
      const json = JSON.parse(result.body ?? '{}');
      return result.statusCode === 403 ? { status: 403, problem: json } : { status: result.statusCode ?? 0 };
    }

    const line = (more: Record<string, unknown> = {}) => ({
      offerId: BASIC,
      quantity: 5,
      termDuration: 'P1Y',
      ...more,
    });
    const cartLine = (billingCycle: string) => ({
      catalogItemId: BASIC,
      quantity: 1,
      termDuration: 'P1M',
      billingCycle,
    });
    const addOnLine = () => ({
      offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ',
      quantity: 1,
      termDuration: 'P1Y',
      parentSubscriptionId: parent.subscriptionId,
    });
    /** policy, kind, as automation?, the allowed body, the refused body, the refused field (after the entry's prefix). */
    const GUARDRAILS: [string, Kind, boolean, () => Record<string, unknown>, () => Record<string, unknown>, string][] =
      [
        [
          'max-300-seats-per-line',
          'order',
          false,
          () => ({ lineItems: [line({ quantity: 300 })] }),
          () => ({ lineItems: [line(), line({ quantity: 301 })] }),
          'lineItems/1/quantity',
        ],
        [
          'max-1000-seats-per-request',
          'order',
          false,
          () => ({ lineItems: [250, 250, 250, 250].map((q) => line({ quantity: q })) }),
          () => ({ lineItems: [250, 250, 250, 251].map((q) => line({ quantity: q })) }),
          'lineItems',
        ],
        [
          'automation-approved-products-only',
          'order',
          true,
          () => ({ lineItems: [line()] }),
          () => ({ lineItems: [line({ offerId: UNAPPROVED })] }),
          'lineItems/0/offerId',
        ],
        [
          'automation-no-three-year-terms',
          'order',
          true,
          () => ({ lineItems: [line()] }),
          () => ({ lineItems: [line({ termDuration: 'P3Y' })] }),
          'lineItems/0/termDuration',
        ],
        [
          'automation-no-three-year-renewals',
          'cart',
          true,
          () => ({ lineItems: [{ ...cartLine('annual'), termDuration: 'P1Y', renewsTo: { termDuration: 'P1Y' } }] }),
          () => ({ lineItems: [{ ...cartLine('annual'), termDuration: 'P1Y', renewsTo: { termDuration: 'P3Y' } }] }),
          'lineItems/0/renewsTo/termDuration',
        ],
        [
          'automation-names-the-term',
          'order',
          true,
          () => ({ lineItems: [line()] }),
          () => ({ lineItems: [line(), { offerId: BASIC, quantity: 5 }] }),
          'lineItems/1/termDuration',
        ],
        [
          'automation-no-triennial-billing',
          'order',
          true,
          () => ({ lineItems: [line()], billingCycle: 'annual' }),
          () => ({ lineItems: [line()], billingCycle: 'triennial' }),
          'billingCycle',
        ],
        [
          'automation-no-trials',
          'cart',
          true,
          () => ({ lineItems: [cartLine('monthly')] }),
          () => ({ lineItems: [cartLine('monthly'), cartLine('none')] }),
          'lineItems/1/billingCycle',
        ],
        [
          'automation-no-add-ons',
          'add-on',
          true,
          () => ({ lineItems: [addOnLine()] }),
          () => ({ lineItems: [addOnLine()] }),
          'orderId',
        ],
      ];
    const cases = GUARDRAILS.flatMap((g) => ENTRIES.map((entry) => [g[0], entry, g] as const));

    it.each(cases)('%s at %s', async (policyId, entry, [, kind, automation, allowedBody, refusedBody, field]) => {
      const prefix =
        entry === 'events' ? '/detail' : entry === 'direct invoke' ? '' : field === 'orderId' ? '/path' : '/body';
      const before = purchases().length;
      const refused = await attempt(entry, kind, automation, refusedBody());
      expect(refused.status, `${policyId} at ${entry}: refused`).toBe(403);
      expect(refused.problem).toMatchObject({
        type: 'urn:partner-orders:problem:policy-denied',
        errors: [{ path: `${prefix}/${field}` }],
        policy: { policies: [policyId] },
      });
      expect(purchases().length).toBe(before);
      // Allowed: the same purchase within the guardrail; an add-on, by a person (direct invocation is automation here).
      if (kind === 'add-on' && entry === 'direct invoke') return;
      const allowed = await attempt(entry, kind, kind === 'add-on' ? false : automation, allowedBody());
      // A dry run answers 200, an add-on over HTTP 200 (the updated order), a new purchase 201 (events and invoke: accepted).
      const expected = entry === 'dry run' || (kind === 'add-on' && entry === 'HTTP') ? 200 : 201;
      expect(allowed.status, `${policyId} at ${entry}: allowed`).toBe(expected);
    });
  });

  describe('canonical inputs: a guardrail cannot be dodged by spelling (pre-flight off)', () => {
    // Nothing but the policy between the request and Partner Center: the catalog pre-flight reads and checks nothing.
    const unchecked = () => ({ ...stack.deps, preflight: new Preflight({ mode: 'off', timeoutMs: 1_000 }) });
    /** The lines of the last purchase request that carried any (an order is placed as a cart, then its checkout). */
    const sentLines = (): { termDuration?: string; catalogItemId?: string; offerId?: string }[] =>
      JSON.parse(
        purchases()
          .filter((r) => r.body)
          .at(-1)?.body ?? '{}',
      ).lineItems ?? [];

    it.each([
      ['P36M', 'automation-no-three-year-terms'],
      ['P156W', 'automation-no-three-year-terms'],
      [undefined, 'automation-names-the-term'],
    ])('a term of %s is refused for automation, nothing sent', async (termDuration, policyId) => {
      const before = purchases().length;
      const lines = [{ offerId: BASIC, quantity: 5, ...(termDuration ? { termDuration } : {}) }];
      const refused = await invoke({ customerId: CUSTOMER, lineItems: lines }, invokeOrder(unchecked()));
      expect(refused).toMatchObject({
        status: 403,
        errors: [{ path: '/lineItems/0/termDuration' }],
        policy: { policies: [policyId] },
      });
      expect(purchases().length).toBe(before);
      // A person may: the guardrail is automation's, and the term is sent as the caller wrote it.
      const allowed = await http(ORDERS, asRole(BUYER_ROLE), { lineItems: lines });
      expect(allowed.status).toBe(201);
      expect(sentLines()[0]?.termDuration).toBe(termDuration);
    });

    it('a renewal to P36M is a renewal to three years', async () => {
      const refused = await invoke(
        {
          customerId: CUSTOMER,
          lineItems: [
            { ...cartLineOf(BASIC), termDuration: 'P1Y', billingCycle: 'annual', renewsTo: { termDuration: 'P36M' } },
          ],
        },
        invokeCart(unchecked()),
      );
      expect(refused).toMatchObject({ status: 403, policy: { policies: ['automation-no-three-year-renewals'] } });
    });

    it('product ids are judged in upper case: approved in any case, unapproved in any case', async () => {
      const lower = await invoke(
        { customerId: CUSTOMER, lineItems: [{ offerId: BASIC.toLowerCase(), quantity: 5, termDuration: 'P1Y' }] },
        invokeOrder(unchecked()),
      );
      expect(lower.id).toEqual(expect.any(String));
      const sent = sentLines()[0];
      expect(sent?.catalogItemId ?? sent?.offerId).toBe(BASIC.toLowerCase());
      const unapproved = await invoke(
        { customerId: CUSTOMER, lineItems: [{ offerId: UNAPPROVED.toLowerCase(), quantity: 5, termDuration: 'P1Y' }] },
        invokeOrder(unchecked()),
      );
      expect(unapproved).toMatchObject({ status: 403, policy: { policies: ['automation-approved-products-only'] } });
    });
  });

  describe('denials are counted: real ones in PolicyDenials (alarmed), dry runs in PolicyDryRunDenials (not)', () => {
    /** The metric filters' patterns (infra/authorization.ts) on an audit line, as CloudWatch Logs reads them. */
    const counts = (dryRun: boolean, entry: Record<string, unknown>) =>
      [...denialPattern(dryRun).logPatternString.matchAll(/\(\$\.(\w+) (=|IS) ("[^"]*"|TRUE|FALSE)\)/g)].every(
        ([, key, , value]) =>
          value === 'TRUE' || value === 'FALSE'
            ? entry[key as string] === (value === 'TRUE')
            : entry[key as string] === JSON.parse(value as string),
      );

    it('a refused dry run counts as a dry-run denial, a refused purchase as a denial, never both', async () => {
      logs.clear();
      await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]), { query: { dryRun: 'true' } });
      await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]));
      await http(ORDERS, asRole(BUYER_ROLE), orderBody([{}]), { query: { dryRun: 'true' } });
      const audit = logs
        .lines()
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.audit === 'purchase-policy');
      expect(audit.map((entry) => [counts(false, entry), counts(true, entry)])).toEqual([
        [false, true],
        [true, false],
        [false, false],
      ]);
      expect(denialPattern(true).logPatternString).toContain('$.dryRun IS TRUE');
    });
  });

  describe('checkout: the cart’s own lines are judged', () => {
    it('reads the cart back and refuses a checkout whose cart breaks a guardrail, naming the cart', async () => {
      // A cart made without the policy (as in Partner Center's own portal), then checked out here.
      const unguarded = createCartHandler({ ...stack.deps, policy: ALLOW_ALL_POLICY });
      const made = await unguarded(
        withAuthorizer(
          httpEvent(CARTS, {
            pathParameters: { customerId: CUSTOMER },
            headers: { 'idempotency-key': `policy-${randomUUID()}` },
            body: { lineItems: [{ catalogItemId: BASIC, quantity: 400, billingCycle: 'monthly' }] },
          }),
          asRole(BUYER_ROLE),
        ),
        lambdaContext(20_000),
      );
      const cartId = JSON.parse(made.body ?? '{}').id as string;
      const before = purchases().length;
      const refused = await http(CHECKOUT, asRole(BUYER_ROLE), undefined, { cartId });
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({
        errors: [{ path: '/path/cartId', message: expect.stringContaining('cart line 0: at most 300 seats') }],
        policy: { action: 'CheckoutCart', policies: ['max-300-seats-per-line'] },
      });
      expect(purchases().length).toBe(before);
      expect(stack.simulator.requests.at(-1)).toMatchObject({ method: 'GET' });
    });

    it('allows the checkout of a cart within the guardrails', async () => {
      const made = await http(CARTS, asRole(BUYER_ROLE), {
        lineItems: [{ catalogItemId: BASIC, quantity: 10, billingCycle: 'monthly' }],
      });
      expect(made.status).toBe(201);
      const checkedOut = await http(CHECKOUT, asRole(BUYER_ROLE), undefined, { cartId: made.json.id });
      expect(checkedOut.status).toBe(200);
    });

    it('judges a cart created with checkout: true as CreateCart and CheckoutCart', async () => {
      const dry = await http(
        CARTS,
        asRole(BUYER_ROLE),
        { lineItems: [{ catalogItemId: BASIC, quantity: 10, billingCycle: 'monthly' }], checkout: true },
        { query: { dryRun: 'true' } },
      );
      expect(dry.json.authorization).toEqual({
        decision: 'allow',
        principal: `PartnerOrders::Role::"${BUYER_ROLE}"`,
        actions: ['CreateCart', 'CheckoutCart'],
        policies: ['buyers-for-every-customer'],
      });
    });
  });

  describe('dry runs show the verdict and send nothing', () => {
    it('an allowed dry run names the permits that allowed it', async () => {
      const before = stack.simulator.requests.length;
      const dry = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{}]), { query: { dryRun: 'true' } });
      expect(dry.status).toBe(200);
      expect(dry.json).toMatchObject({
        dryRun: true,
        authorization: { decision: 'allow', actions: ['CreateOrder'], policies: ['buyers-for-every-customer'] },
      });
      expect(stack.simulator.requests.length).toBe(before);
    });

    it('a refused dry run is the refusal the purchase would get', async () => {
      const dry = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]), {
        query: { dryRun: 'true' },
      });
      expect(dry.status).toBe(403);
      expect(dry.json.policy.policies).toEqual(['max-300-seats-per-line']);
      const invoked = await invoke({ customerId: CUSTOMER, dryRun: true, ...orderBody([{ termDuration: 'P3Y' }]) });
      expect(invoked.policy.policies).toEqual(['automation-no-three-year-terms']);
    });
  });

  describe('keys, audit and failing closed', () => {
    it('a refusal is the key’s final answer: replayed, not judged again', async () => {
      const key = `policy-replay-${randomUUID()}`;
      const first = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]), { key });
      const askedBefore = asked;
      logs.clear();
      const again = await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]), { key });
      expect(again).toEqual(first);
      // The decision is asked beside the idempotency lock (purchase/early.ts), before the store tells a replay: at most
      // that one question, whose answer is neither used nor logged as a decision.
      expect(asked - askedBefore).toBeLessThanOrEqual(1);
      const audit = logs.lines().filter((line) => JSON.parse(line).audit === 'purchase-policy');
      expect(audit).toEqual([]);
    });

    it('writes one audit line per decision, with the caller, customer, operation and policies', async () => {
      await http(ORDERS, asRole(BUYER_ROLE), orderBody([{}]));
      await http(ORDERS, asRole(BUYER_ROLE), orderBody([{ quantity: 301 }]));
      const audit = logs
        .lines()
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.audit === 'purchase-policy');
      expect(audit).toHaveLength(2);
      expect(audit[0]).toMatchObject({
        level: 'INFO',
        decision: 'allow',
        caller: `http:iam:${BUYER_ROLE}`,
        principal: `PartnerOrders::Role::"${BUYER_ROLE}"`,
        customerId: CUSTOMER,
        operation: 'createOrder',
        actions: ['CreateOrder'],
        policies: ['buyers-for-every-customer'],
        engine: 'cedar-wasm',
        dryRun: false,
      });
      expect(audit[1]).toMatchObject({
        level: 'WARN',
        decision: 'deny',
        policies: ['max-300-seats-per-line'],
        field: '/body/lineItems/0/quantity',
      });
    });

    it('fails closed when the policy cannot be evaluated: 503 policy-unavailable, the event retried, nothing sent', async () => {
      const down: PolicyEngine = {
        name: 'down',
        entities: [],
        authorize: async () => {
          throw new Error('connect ECONNREFUSED');
        },
      };
      const deps = { ...stack.deps, policy: new PurchasePolicy(down) };
      const before = purchases().length;
      const httpResult = await createOrderHandler(deps)(
        withAuthorizer(
          httpEvent(ORDERS, {
            pathParameters: { customerId: CUSTOMER },
            headers: { 'idempotency-key': `policy-${randomUUID()}` },
            body: orderBody([{}]),
          }),
          asRole(BUYER_ROLE),
        ),
        lambdaContext(20_000),
      );
      expect(httpResult.statusCode).toBe(503);
      expect(JSON.parse(httpResult.body ?? '{}')).toMatchObject({
        type: 'urn:partner-orders:problem:policy-unavailable',
      });
      expect(httpResult.headers?.['Retry-After']).toBe('5');

      // A batch whose every record failed is thrown back to SQS whole (Powertools): the command is delivered again.
      const consumer = recordingEventsHandler(deps);
      await expect(
        consumer.handler(
          sqsEvent([
            sqsRecord(
              eventBridgeEvent(
                'CreateOrder',
                { customerId: CUSTOMER, idempotencyKey: randomUUID(), ...orderBody([{}]) },
                { source: 'a.b' },
              ),
            ),
          ]),
          lambdaContext(50_000),
        ),
      ).rejects.toThrow(/All records failed/);
      expect(consumer.published).toEqual([]);

      await expect(
        invokeOrder(deps)({ customerId: CUSTOMER, idempotencyKey: randomUUID(), ...orderBody([{}]) }, lambdaContext()),
      ).rejects.toThrow(/503 The purchase policy could not be evaluated/);
      expect(purchases().length).toBe(before);
    });
  });
});
