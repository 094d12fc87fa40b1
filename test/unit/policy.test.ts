// The purchase policy's pieces on their own: callers as Cedar principals, JWT group claims, the Cedar requests a
// command makes (per line and action, with the request's pointers for each entry point), the entities a request
// carries, annotations read back from a statement, and how a set of verdicts becomes one decision.
import { describe, expect, it } from 'vitest';
import { eventCaller, INVOKE_CALLER, iamCaller, jwtCaller, jwtGroups } from '../../functions/shared/caller.js';
import { interpret } from '../../functions/shared/policy/check.js';
import { annotationsOf, type Verdict } from '../../functions/shared/policy/engine.js';
import {
  canonicalTerm,
  cartLines,
  catalogParts,
  entitiesFor,
  NO_TERM,
  policyLine,
  principalOf,
  purchaseOf,
  requestPrefixes,
  requestsOf,
  uid,
} from '../../functions/shared/policy/model.js';
import { checkoutCommand, createCartCommand } from '../../functions/shared/services/carts.js';
import { addOnCommand, createOrderCommand } from '../../functions/shared/services/orders.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';

describe('callers as principals', () => {
  it('names every caller caller.ts makes', () => {
    const role = `http:${iamCaller('arn:aws:sts::111122223333:assumed-role/Billing/botocore-session-1')}`;
    expect(principalOf(role).uid).toEqual(uid('Role', 'arn:aws:iam::111122223333:role/Billing'));
    const user = `http:${jwtCaller({ iss: 'https://issuer/', sub: 'alice' })}`;
    expect(principalOf(user, ['groups:Purchasers'])).toEqual({
      uid: uid('User', 'https://issuer/|alice'),
      tokenGroups: [uid('TokenGroup', 'groups:Purchasers')],
    });
    expect(principalOf(eventCaller('com.example.billing')).uid).toEqual(uid('Producer', 'com.example.billing'));
    expect(principalOf(INVOKE_CALLER).uid).toEqual(uid('Invoker', 'invoke'));
    expect(principalOf('http:anonymous').uid).toEqual(uid('Anonymous', 'anonymous'));
  });

  it('refuses a caller it does not know rather than guessing', () => {
    expect(() => principalOf('ftp:someone')).toThrow(/unrecognised caller/);
    expect(() => principalOf('http:jwt:{"iss":"x"}')).toThrow(/unrecognised JWT caller/);
  });

  it('reads group claims of a verified token (arrays, or one value), each claim its own namespace', () => {
    expect(jwtGroups({ groups: ['Readers', 'Purchasers'] })).toEqual(['groups:Readers', 'groups:Purchasers']);
    expect(jwtGroups({ roles: ['Orders.Buy'], 'cognito:groups': 'admins' })).toEqual([
      'roles:Orders.Buy',
      'cognito:groups:admins',
    ]);
    // A group and an app role of the same name stay two things.
    expect(jwtGroups({ groups: ['buyers'], roles: ['buyers'] })).toEqual(['groups:buyers', 'roles:buyers']);
    expect(jwtGroups({ groups: [], roles: '' })).toEqual([]);
    expect(jwtGroups({ sub: 'x', scope: 'partner-orders/purchase' })).toEqual([]);
  });

  it('a token naming no subject names no caller (refused, not shared)', () => {
    expect(jwtCaller({ iss: 'https://issuer/' })).toBeUndefined();
    expect(jwtCaller({ iss: 'https://issuer/', sub: '' })).toBeUndefined();
    expect(jwtCaller({ iss: 'https://issuer/', azp: 'app' })).toBe('jwt:["https://issuer/","app"]');
  });
});

describe('the requests a command makes', () => {
  const order = createOrderCommand(CUSTOMER, {
    lineItems: [
      { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y' },
      { offerId: '031c9e47-4802-4248-838e-778fb1d2cc05', quantity: 2 },
    ],
  });

  it('one per line and action, each with the request’s totals', () => {
    const requests = requestsOf(purchaseOf(order, '/headers/idempotency-key'), principalOf('invoke'));
    expect(requests).toHaveLength(2);
    expect(requests[0]).toEqual({
      principal: uid('Invoker', 'invoke'),
      action: uid('Action', 'CreateOrder'),
      resource: uid('Customer', CUSTOMER),
      context: {
        line: {
          product: 'CFQ7TTC0LH18',
          sku: 'CFQ7TTC0LH18:0001',
          catalogId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
          quantity: 5,
          term: 'P1Y',
          renewsToTerm: 'unspecified',
          billingCycle: 'monthly',
          trial: false,
        },
        lineCount: 2,
        totalSeats: 7,
      },
    });
    expect(requests[1]?.context.line).toMatchObject({
      product: '031C9E47-4802-4248-838E-778FB1D2CC05',
      term: 'unspecified',
    });
    const cart = createCartCommand(CUSTOMER, {
      lineItems: [{ catalogItemId: 'MS-AZR-0145P', quantity: 1, billingCycle: 'none' }],
      checkout: true,
    });
    const cartRequests = requestsOf(purchaseOf(cart, '/idempotencyKey'), principalOf('invoke'));
    expect(cartRequests.map((r) => r.action.id)).toEqual(['CreateCart', 'CheckoutCart']);
    expect(cartRequests[0]?.context.line).toMatchObject({ product: 'MS-AZR-0145P', trial: true });
  });

  it('points at the request’s own fields, per entry point', () => {
    expect(requestPrefixes('/headers/idempotency-key')).toEqual({ ids: '/path', body: '/body' });
    expect(requestPrefixes('/detail/idempotencyKey')).toEqual({ ids: '/detail', body: '/detail' });
    expect(requestPrefixes('/idempotencyKey')).toEqual({ ids: '', body: '' });
    const http = purchaseOf(order, '/headers/idempotency-key');
    expect(http.lines[1]?.paths).toMatchObject({
      quantity: '/body/lineItems/1/quantity',
      product: '/body/lineItems/1/offerId',
      billingCycle: '/body/billingCycle',
    });
    expect(purchaseOf(order, '/detail/idempotencyKey').paths.customer).toBe('/detail/customerId');
    const addOn = purchaseOf(
      addOnCommand(CUSTOMER, 'Cs_1', {
        lineItems: [{ offerId: 'A:B:C', quantity: 1, parentSubscriptionId: CUSTOMER }],
      }),
      '/idempotencyKey',
    );
    expect(addOn).toMatchObject({ actions: ['AddOn'], paths: { order: '/orderId', customer: '/customerId' } });
    expect(purchaseOf(checkoutCommand(CUSTOMER, CUSTOMER), '/headers/idempotency-key')).toMatchObject({
      actions: ['CheckoutCart'],
      lines: [],
      paths: { cart: '/path/cartId' },
    });
  });

  it('canonicalises terms: one spelling per duration, so a guardrail on P3Y cannot be dodged', () => {
    for (const term of ['P3Y', 'p3y', ' P3Y ', 'P36M', 'P156W', 'P1095D'])
      expect(canonicalTerm(term), term).toBe('P3Y');
    for (const term of ['P1Y', 'P12M', 'P52W', 'P365D', 'P364D']) expect(canonicalTerm(term), term).toBe('P1Y');
    expect(canonicalTerm('P1M')).toBe('P1M');
    expect(canonicalTerm('P18M')).toBe('P18M');
    expect(canonicalTerm('P14D')).toBe('P2W');
    expect(canonicalTerm('P30D')).toBe('P30D');
    expect(canonicalTerm(undefined)).toBe(NO_TERM);
    expect(canonicalTerm('')).toBe(NO_TERM);
    expect(canonicalTerm(null)).toBe(NO_TERM);
    // A shape the policy does not know is kept (upper case), never turned into "no term".
    expect(canonicalTerm('P1Y6M')).toBe('P1Y6M');
  });

  it('hands the policy upper-case ids and canonical terms, and judges renewsTo', () => {
    const cart = createCartCommand(CUSTOMER, {
      lineItems: [
        {
          catalogItemId: 'cfq7ttc0lh18:0001:cfq7ttc0k59s',
          quantity: 1,
          billingCycle: 'annual',
          termDuration: 'P12M',
          renewsTo: { termDuration: 'P36M' },
        },
      ],
    });
    const [request] = requestsOf(purchaseOf(cart, '/headers/idempotency-key'), principalOf('invoke'));
    expect(request?.context.line).toEqual({
      product: 'CFQ7TTC0LH18',
      sku: 'CFQ7TTC0LH18:0001',
      catalogId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
      quantity: 1,
      term: 'P1Y',
      renewsToTerm: 'P3Y',
      billingCycle: 'annual',
      trial: false,
    });
    expect(purchaseOf(cart, '/headers/idempotency-key').lines[0]?.paths.renewsToTerm).toBe(
      '/body/lineItems/0/renewsTo/termDuration',
    );
    // What is sent is the caller's own spelling: only the policy's input is canonical.
    expect((cart.input as { lineItems: { catalogItemId: string; termDuration: string }[] }).lineItems[0]).toMatchObject(
      {
        catalogItemId: 'cfq7ttc0lh18:0001:cfq7ttc0k59s',
        termDuration: 'P12M',
      },
    );
    // A checkout reads the cart's own lines back: their renewsTo is judged too.
    const checkout = cartLines(purchaseOf(checkoutCommand(CUSTOMER, CUSTOMER), '/path/cartId'), [
      { catalogItemId: 'A:B:C', quantity: 1, termDuration: 'P1Y', renewsTo: { termDuration: 'P3Y' } },
    ]);
    expect(checkout.lines[0]?.line).toMatchObject({ term: 'P1Y', renewsToTerm: 'P3Y' });
  });

  it('splits catalog ids into product and SKU', () => {
    expect(catalogParts('CFQ7TTC0LH18:0001:CFQ7TTC0K59S')).toEqual({
      product: 'CFQ7TTC0LH18',
      sku: 'CFQ7TTC0LH18:0001',
    });
    expect(catalogParts('MS-AZR-0145P')).toEqual({ product: 'MS-AZR-0145P', sku: 'MS-AZR-0145P' });
    expect(policyLine({ id: 'A:B', quantity: 1, billingCycle: 'annual' })).toMatchObject({ sku: 'A:B', trial: false });
  });
});

describe('the entities a request carries', () => {
  const store = [
    { uid: uid('Producer', 'p'), attrs: {}, parents: [uid('Group', 'automation')] },
    { uid: uid('Group', 'automation'), attrs: {}, parents: [uid('Group', 'all')] },
    { uid: uid('Group', 'all'), attrs: {}, parents: [] },
    { uid: uid('TokenGroup', 'Purchasers'), attrs: {}, parents: [uid('Group', 'buyers')] },
    { uid: uid('Customer', CUSTOMER), attrs: {}, parents: [uid('CustomerGroup', 'contoso')] },
    { uid: uid('Producer', 'unrelated'), attrs: {}, parents: [uid('Group', 'automation')] },
  ];

  it('the principal, the customer and every group above them; nothing else', () => {
    const entities = entitiesFor(store, principalOf('events:p'), uid('Customer', CUSTOMER));
    expect(entities.map((e) => e.uid.id).sort()).toEqual([CUSTOMER, 'all', 'automation', 'p']);
  });

  it('a JWT caller in its token’s groups; a customer nobody named, bare', () => {
    const entities = entitiesFor(store, principalOf('http:jwt:["i","bob"]', ['Purchasers']), uid('Customer', 'x'));
    expect(entities).toEqual([
      { uid: uid('User', 'i|bob'), attrs: {}, parents: [uid('TokenGroup', 'Purchasers')] },
      store[3],
      { uid: uid('Customer', 'x'), attrs: {}, parents: [] },
    ]);
  });
});

describe('annotations read back from a statement (Verified Permissions returns only the text)', () => {
  it('reads @id, @field and @reason, escapes included', () => {
    expect(
      annotationsOf(
        '// a comment\n@id("max-seats")\n@field("quantity")\n@reason("at most \\"300\\" seats")\nforbid (principal, action, resource);',
      ),
    ).toEqual({ id: 'max-seats', field: 'quantity', reason: 'at most "300" seats' });
    expect(annotationsOf('permit (principal, action, resource);')).toEqual({});
  });
});

describe('verdicts into one decision', () => {
  const purchase = purchaseOf(
    createOrderCommand(CUSTOMER, {
      lineItems: [
        { offerId: 'A:B:C', quantity: 1 },
        { offerId: 'D:E:F', quantity: 1 },
      ],
    }),
    '/headers/idempotency-key',
  );
  const requests = requestsOf(purchase, principalOf('invoke'));
  const allow: Verdict = { decision: 'allow', policies: [{ id: 'p' }], errors: [] };
  const nothing: Verdict = { decision: 'deny', policies: [], errors: [] };

  it('allowed when every line is, naming each permit once', () => {
    expect(interpret(purchase, requests, [allow, allow], 'x')).toMatchObject({
      allowed: true,
      policies: [{ id: 'p' }],
    });
  });

  it('a forbid names itself and its field', () => {
    const forbid: Verdict = { decision: 'deny', policies: [{ id: 'f', field: 'product', reason: 'no' }], errors: [] };
    expect(interpret(purchase, requests, [allow, forbid], 'x').denial).toEqual({
      action: 'CreateOrder',
      principal: 'x',
      policies: ['f'],
      path: '/body/lineItems/1/offerId',
      reason: 'no',
    });
  });

  it('nothing permitted: the customer when no line was permitted, else the line', () => {
    expect(interpret(purchase, requests, [nothing, nothing], 'x').denial?.path).toBe('/path/customerId');
    expect(interpret(purchase, requests, [allow, nothing], 'x').denial).toMatchObject({
      path: '/body/lineItems/1',
      reason: expect.stringContaining('with line item 1 as it is'),
    });
  });
});
