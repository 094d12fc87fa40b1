import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/shared/errors.js';
import {
  AddOnRequest,
  Cart,
  CartCheckoutResult,
  CartPath,
  CreateCartRequest,
  CreateOrderRequest,
  CustomerPath,
  DryRunQuery,
  MAX_LINE_ITEMS,
  Order,
  OrderPath,
} from '../../functions/shared/schemas/index.js';
import { parse, suggestKey } from '../../functions/shared/validation.js';
import { fixture } from '../support/fixtures.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const SUB = 'a4c1340d-6911-4758-bba3-0c4c6007d161';
const line = { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 };
const cartLine = { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1, billingCycle: 'monthly' };

/** The field errors a value earns, as `path: message` strings. */
function errorsOf(schema: Parameters<typeof parse>[0], value: unknown, part = 'body'): string[] {
  try {
    parse(schema, value, part);
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => `${e.path}: ${e.message}`);
    throw error;
  }
  return [];
}

describe('documented Partner Center responses parse leniently', () => {
  it.each(['create-an-order-response', 'get-an-order-by-id-response', 'purchase-an-add-on-to-a-subscription-response'])(
    '%s is an Order',
    (name) => {
      const sample = fixture(name) as Record<string, unknown>;
      const order = Order.parse(sample);
      expect(order).toEqual(sample); // unknown fields kept
    },
  );

  it('every order of the documented collection is an Order', () => {
    const collection = fixture('get-all-of-a-customer-s-orders-response') as { items: unknown[] };
    expect(collection.items.length).toBeGreaterThan(0);
    for (const item of collection.items) expect(Order.safeParse(item).success).toBe(true);
  });

  it.each([
    'create-a-cart-response',
    'create-a-cart-with-add-ons-response',
    'create-a-cart-with-add-ons-response-2',
    'update-a-cart-response',
  ])('%s is a Cart', (name) => {
    const sample = fixture(name);
    expect(Cart.parse(sample)).toEqual(sample);
  });

  it('the documented checkout result parses, and so does one with partial failures', () => {
    expect(CartCheckoutResult.safeParse(fixture('checkout-a-cart-response')).success).toBe(true);
    const partial = {
      orders: [{ id: 'o1', status: 'brand_new_status' }],
      orderErrors: [{ orderGroupId: '1', code: 800005, description: 'x' }],
    };
    expect(CartCheckoutResult.parse(partial)).toEqual(partial);
    expect(CartCheckoutResult.safeParse({ orderErrors: [{ orderGroupId: '0', code: '800005' }] }).success).toBe(true);
  });

  it('an Order without an id is not an Order', () => {
    expect(Order.safeParse({ lineItems: [] }).success).toBe(false);
    expect(Cart.safeParse('success').success).toBe(false);
  });
});

describe('order requests', () => {
  it('accepts a minimal order and one with every field', () => {
    expect(errorsOf(CreateOrderRequest, { lineItems: [line] })).toEqual([]);
    const full = {
      billingCycle: 'annual',
      partnerOnRecordAttestationAccepted: true,
      lineItems: [
        {
          ...line,
          offerId: '031C9E47-4802-4248-838E-778FB1D2CC05',
          lineItemNumber: 0,
          friendlyName: 'Office',
          termDuration: 'P1Y',
          provisioningContext: { subscriptionId: SUB, scope: 'shared' },
          partnerIdOnRecord: '4847383',
        },
      ],
    };
    expect(CreateOrderRequest.parse(full)).toEqual(full);
  });

  it('accepts the documented create-an-order request once written in camelCase, except the read-only currencyCode', () => {
    const sample = fixture('create-an-order-request') as { BillingCycle: string; LineItems: Record<string, unknown>[] };
    const camel = {
      billingCycle: sample.BillingCycle,
      currencyCode: 'USD',
      lineItems: sample.LineItems.map((l) => ({
        lineItemNumber: l.LineItemNumber,
        provisioningContext: l.ProvisioningContext,
        offerId: l.OfferId,
        friendlyName: l.FriendlyName,
        quantity: l.Quantity,
      })),
    };
    expect(errorsOf(CreateOrderRequest, camel)).toEqual(['/body/currencyCode: is not a known field']);
  });

  it.each(
    [
      [{}, '/body/lineItems: is required'],
      [undefined, '/body: is required'],
      [{ lineItems: [] }, '/body/lineItems: must have at least 1 item(s)'],
      [{ lineItems: [{ quantity: 1 }] }, '/body/lineItems/0/offerId: is required'],
      [{ lineItems: 'all of them' }, '/body/lineItems: must be an array'],
      [
        { lineItems: [{ ...line, offerId: 'office' }] },
        '/body/lineItems/0/offerId: must be an offer GUID or a catalog id productId:skuId:availabilityId',
      ],
      [{ lineItems: [{ ...line, quantity: 0 }] }, '/body/lineItems/0/quantity: must be at least 1'],
      [{ lineItems: [{ ...line, quantity: 1.5 }] }, '/body/lineItems/0/quantity: must be an integer'],
      [{ lineItems: [{ ...line, quantity: '1' }] }, '/body/lineItems/0/quantity: must be a number'],
      [{ lineItems: [{ ...line, quantity: 10_001 }] }, '/body/lineItems/0/quantity: must be at most 10000'],
      [{ lineItems: [{ ...line, quantiy: 2 }] }, '/body/lineItems/0/quantiy: is not a known field'],
      [{ lineItems: [line], status: 'none' }, '/body/status: is not a known field'],
      [
        { lineItems: [line], billingCycle: 'weekly' },
        '/body/billingCycle: must be one of: monthly, annual, triennial, none, one_time',
      ],
      [
        { lineItems: [line], billingCycle: 'unknown' },
        '/body/billingCycle: must be one of: monthly, annual, triennial, none, one_time',
      ],
      [
        { lineItems: [{ ...line, termDuration: '1 year' }] },
        '/body/lineItems/0/termDuration: must be an ISO 8601 duration such as P1M, P1Y or P3Y',
      ],
      [{ lineItems: [{ ...line, friendlyName: '' }] }, '/body/lineItems/0/friendlyName: must not be empty'],
      [
        { lineItems: [{ ...line, friendlyName: 'x'.repeat(257) }] },
        '/body/lineItems/0/friendlyName: must have at most 256 characters',
      ],
      [
        { lineItems: [{ ...line, provisioningContext: { scope: 1 } }] },
        '/body/lineItems/0/provisioningContext/scope: must be a string',
      ],
      [
        { lineItems: [{ ...line, partnerIdOnRecord: 'abc' }] },
        '/body/lineItems/0/partnerIdOnRecord: must be an MPN id (digits)',
      ],
      [
        { lineItems: [{ ...line, parentSubscriptionId: SUB }] },
        '/body/lineItems/0/parentSubscriptionId: parentSubscriptionId is for add-ons: send them with PATCH /customers/{customerId}/orders/{orderId}',
      ],
      [{ lineItems: [{ ...line, lineItemNumber: 1 }] }, '/body/lineItems: lineItemNumber values must run from 0 to 0'],
      [
        {
          lineItems: [
            { ...line, lineItemNumber: 0 },
            { ...line, lineItemNumber: 0 },
          ],
        },
        '/body/lineItems: lineItemNumber values must be unique',
      ],
      [
        { lineItems: [{ ...line, lineItemNumber: 0 }, line] },
        '/body/lineItems: give lineItemNumber on every line item or on none',
      ],
      [
        { lineItems: Array.from({ length: MAX_LINE_ITEMS + 1 }, () => line) },
        '/body/lineItems: must have at most 100 item(s)',
      ],
      [[line], '/body: must be an object'],
      [null, '/body: must be an object'],
    ].map(([body, expected]) => ({ body, expected })),
  )('refuses with "$expected"', ({ body, expected }) => {
    expect(errorsOf(CreateOrderRequest, body)).toContain(expected);
  });

  it('normalises billing cycle spellings to the wire form', () => {
    for (const spelling of ['OneTime', 'oneTime', 'one_time', 'ONE_TIME'])
      expect(CreateOrderRequest.parse({ lineItems: [line], billingCycle: spelling }).billingCycle).toBe('one_time');
    expect(CreateOrderRequest.parse({ lineItems: [line], billingCycle: 'Monthly' }).billingCycle).toBe('monthly');
  });

  it('add-ons need a parentSubscriptionId on every line', () => {
    expect(errorsOf(AddOnRequest, { lineItems: [{ ...line, parentSubscriptionId: SUB }] })).toEqual([]);
    expect(errorsOf(AddOnRequest, { lineItems: [{ ...line, parentSubscriptionId: SUB }, line] })).toEqual([
      '/body/lineItems/1/parentSubscriptionId: every add-on line needs the parentSubscriptionId of the subscription it extends',
    ]);
  });
});

describe('cart requests', () => {
  it('accepts the documented create-a-cart request as it is', () => {
    expect(errorsOf(CreateCartRequest, fixture('create-a-cart-request'))).toEqual([]);
  });

  it('normalises billing cycles and participant types', () => {
    const cart = CreateCartRequest.parse({
      lineItems: [
        { ...cartLine, billingCycle: 'OneTime', participants: [{ key: 'TransactionReseller', value: '123' }] },
      ],
    });
    expect(cart.lineItems[0]?.billingCycle).toBe('one_time');
    expect(cart.lineItems[0]?.participants).toEqual([{ key: 'transaction_reseller', value: '123' }]);
  });

  it.each(
    [
      [{ lineItems: [{ ...cartLine, billingCycle: undefined }] }, '/body/lineItems/0/billingCycle: is required'],
      [
        { lineItems: [{ ...cartLine, catalogItemId: 'a b' }] },
        '/body/lineItems/0/catalogItemId: must be a catalog item id such as productId:skuId:availabilityId',
      ],
      [{ lineItems: [{ ...cartLine, id: 3 }] }, '/body/lineItems: id values must run from 0 to 0'],
      [{ lineItems: [cartLine], checkout: 'yes' }, '/body/checkout: must be a boolean'],
      [
        { lineItems: [{ ...cartLine, renewsTo: { termDuration: 'P1Y', extra: 1 } }] },
        '/body/lineItems/0/renewsTo/extra: is not a known field',
      ],
      [
        { lineItems: [{ ...cartLine, participants: [{ key: 'someone', value: '1' }] }] },
        '/body/lineItems/0/participants/0/key: must be one of: transaction_reseller, consumption_reseller, additional_transaction_reseller',
      ],
    ].map(([body, expected]) => ({ body, expected })),
  )('refuses with "$expected"', ({ body, expected }) => {
    expect(errorsOf(CreateCartRequest, body)).toContain(expected);
  });
});

describe('messages that name the right thing', () => {
  it('says a number too large for JSON (1e400 parses to Infinity) is out of range, not that it is no number', () => {
    const body = JSON.parse(`{"lineItems":[{"offerId":"${line.offerId}","quantity":1e400,"lineItemNumber":-1e400}]}`);
    expect(errorsOf(CreateOrderRequest, body)).toEqual([
      '/body/lineItems/0/quantity: is out of range (it parses to Infinity): must be a finite number',
      '/body/lineItems/0/lineItemNumber: is out of range (it parses to -Infinity): must be a finite number',
    ]);
  });

  it('suggests the known key for a PowerShell-cased or misspelt one', () => {
    const body = { LineItems: [{ OfferId: line.offerId, quantiy: 1 }], BillingCycle: 'monthly' };
    expect(errorsOf(CreateOrderRequest, body)).toEqual([
      '/body/lineItems: is required',
      '/body/LineItems: is not a known field: did you mean lineItems? (keys are case-sensitive)',
      '/body/BillingCycle: is not a known field: did you mean billingCycle? (keys are case-sensitive)',
    ]);
    expect(errorsOf(CreateOrderRequest, { lineItems: [{ OfferId: line.offerId, quantiy: 1 }] })).toEqual([
      '/body/lineItems/0/offerId: is required',
      '/body/lineItems/0/quantity: is required',
      '/body/lineItems/0/OfferId: is not a known field: did you mean offerId? (keys are case-sensitive)',
      '/body/lineItems/0/quantiy: is not a known field: did you mean quantity?',
    ]);
    expect(errorsOf(CreateCartRequest, { lineItems: [{ ...cartLine, CatalogItemID: 'x' }] })).toEqual([
      '/body/lineItems/0/CatalogItemID: is not a known field',
    ]);
  });

  it('suggests nothing for a key far from every known one', () => {
    expect(errorsOf(CreateOrderRequest, { lineItems: [line], colour: 'red' })).toEqual([
      '/body/colour: is not a known field',
    ]);
  });

  it('suggestKey: same key in another case, or one or two edits away; nothing when ambiguous', () => {
    expect(suggestKey('OFFERID', ['offerId', 'quantity'])).toBe('offerId');
    expect(suggestKey('termDurration', ['termDuration'])).toBe('termDuration');
    expect(suggestKey('qunatity', ['quantity'])).toBe('quantity');
    expect(suggestKey('idd', ['id'])).toBe('id');
    expect(suggestKey('ab', ['ac', 'ad'])).toBeUndefined();
    expect(suggestKey('status', ['lineItems', 'billingCycle'])).toBeUndefined();
    expect(suggestKey('x'.repeat(1000), ['x'])).toBeUndefined();
  });
});

describe('ids and query', () => {
  it('accepts GUIDs in any case and gives them in lower case', () => {
    expect(CustomerPath.parse({ customerId: CUSTOMER.toUpperCase() })).toEqual({ customerId: CUSTOMER });
    expect(CartPath.parse({ customerId: CUSTOMER, cartId: SUB.toUpperCase() }).cartId).toBe(SUB);
  });

  it('accepts documented order ids and refuses ones that could change the upstream URL', () => {
    for (const orderId of ['Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1', '5cf72f146967', SUB])
      expect(OrderPath.safeParse({ customerId: CUSTOMER, orderId }).success).toBe(true);
    for (const orderId of ['', '..', 'a/b', 'a?b', 'x'.repeat(129), 'a b'])
      expect(errorsOf(OrderPath, { customerId: CUSTOMER, orderId }, 'path')[0]).toMatch(/^\/path\/orderId: /);
  });

  it('names a bad customer id', () => {
    expect(errorsOf(CustomerPath, { customerId: 'contoso' }, 'path')).toEqual([
      '/path/customerId: must be a GUID (customer tenant id)',
    ]);
  });

  it('knows only dryRun, and only true or false', () => {
    expect(errorsOf(DryRunQuery, { dryRun: 'yes' }, 'query')).toEqual(['/query/dryRun: must be true or false']);
    expect(errorsOf(DryRunQuery, { whatIf: 'true' }, 'query')).toEqual(['/query/whatIf: is not a known field']);
  });
});
