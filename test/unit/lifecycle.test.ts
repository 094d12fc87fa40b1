// After the purchase, the pure parts: one overall state from Partner Center's statuses (unknown values included),
// merging lines with their provisioning status, cart expiry, the poll schedule and what it costs against the 500
// requests per minute Partner Center allows for orders.
import { describe, expect, it } from 'vitest';
import { PartnerCenterError } from '../../functions/shared/errors.js';
import { OUTCOME_SOURCE } from '../../functions/shared/events.js';
import { pollingCost } from '../../functions/shared/lifecycle/budget.js';
import {
  DEFAULT_POLL_DELAYS_SECONDS,
  pollDelays,
  readLifecycleConfig,
} from '../../functions/shared/lifecycle/config.js';
import { LIFECYCLE_SOURCE } from '../../functions/shared/lifecycle/events.js';
import { cartView, mergeOrderStatus, overallState, readOrderStatus } from '../../functions/shared/lifecycle/status.js';
import { delayAfter, ordersOf } from '../../functions/shared/lifecycle/tracking.js';
import type { Order } from '../../functions/shared/schemas/orders.js';
import type { ServiceContext } from '../../functions/shared/services/context.js';

const order = (status: string | undefined, lines = 2): Order => ({
  id: 'Cs_order',
  ...(status === undefined ? {} : { status }),
  lineItems: Array.from({ length: lines }, (_, i) => ({
    lineItemNumber: i,
    offerId: `CFQ7TTC0LH18:000${i}:CFQ7TTC0K59S`,
    subscriptionId: `sub-${i}`,
    quantity: 5 + i,
  })),
});

describe('overall state of an order', () => {
  it.each([
    ['pending', ['Unfulfilled', 'PrefulfillmentPending'], 'pending'],
    ['pending', ['Fulfilled', 'Unfulfilled'], 'provisioning'],
    ['completed', ['Fulfilled', 'Unfulfilled'], 'provisioning'],
    ['completed', ['Unfulfilled', 'Unfulfilled'], 'provisioning'],
    ['completed', ['Fulfilled', 'Fulfilled'], 'provisioned'],
    ['pending', ['Fulfilled', 'Fulfilled'], 'provisioned'],
    ['cancelled', ['Fulfilled', 'Fulfilled'], 'cancelled'],
    // Case as Partner Center may write it.
    ['Completed', ['FULFILLED', 'fulfilled'], 'provisioned'],
    ['CANCELLED', ['Unfulfilled'], 'cancelled'],
  ] as const)('%s with lines %j is %s', (status, lines, state) => {
    expect(overallState(status, lines)).toBe(state);
  });

  it('tolerates status values it does not know: the state is unknown, never an error', () => {
    // An order status Partner Center added later (po_upload_complete), and a line status nobody documented.
    expect(overallState('po_upload_complete', ['Unfulfilled', 'Fulfilled'])).toBe('unknown');
    expect(overallState('completed', ['Fulfilled', 'PartiallyShipped'])).toBe('unknown');
    expect(overallState('pending', ['Unfulfilled', 'SomethingNew'])).toBe('unknown');
    expect(overallState('unknown', undefined)).toBe('unknown');
    expect(overallState(undefined, undefined)).toBe('unknown');
    expect(overallState(null, [null, null])).toBe('unknown');
    // Every line provisioned says enough, whatever the order's own status.
    expect(overallState('po_upload_complete', ['Fulfilled', 'Fulfilled'])).toBe('provisioned');
  });

  it('follows the order status alone when the lines cannot be read', () => {
    expect(overallState('pending', undefined)).toBe('pending');
    expect(overallState('completed', undefined)).toBe('provisioned');
    expect(overallState('cancelled', undefined)).toBe('cancelled');
    expect(overallState('completed', [])).toBe('provisioned');
  });
});

describe('an order with its provisioning merged in', () => {
  it('puts each line’s status and quantities on the line, matched by lineItemNumber', () => {
    const view = mergeOrderStatus(order('completed'), [
      {
        lineItemNumber: 1,
        status: 'Unfulfilled',
        quantityProvisioningInformation: [{ quantity: 6, status: 'Unfulfilled' }],
      },
      {
        lineItemNumber: 0,
        status: 'Fulfilled',
        quantityProvisioningInformation: [{ quantity: 5, status: 'Fulfilled' }],
      },
    ]);
    expect(view.state).toBe('provisioning');
    expect(view.provisioningStatusAvailable).toBe(true);
    expect(
      view.lineItems.map((l) => [l.subscriptionId, l.provisioningStatus, l.quantityProvisioningInformation]),
    ).toEqual([
      ['sub-0', 'Fulfilled', [{ quantity: 5, status: 'Fulfilled' }]],
      ['sub-1', 'Unfulfilled', [{ quantity: 6, status: 'Unfulfilled' }]],
    ]);
    // Partner Center's own fields stay as they came.
    expect(view).toMatchObject({ id: 'Cs_order', status: 'completed' });
  });

  it('without line numbers, by position; unreadable provisioning leaves the lines null', () => {
    const byPosition = mergeOrderStatus(order('pending'), [{ status: 'Fulfilled' }, { status: 'Fulfilled' }]);
    expect(byPosition.state).toBe('provisioned');
    const none = mergeOrderStatus(order('pending'), undefined);
    expect(none).toMatchObject({ state: 'pending', provisioningStatusAvailable: false });
    expect(none.lineItems.map((l) => l.provisioningStatus)).toEqual([null, null]);
    // An entry missing for one line: the order's status decides, as when none is readable.
    expect(mergeOrderStatus(order('pending'), [{ lineItemNumber: 0, status: 'Fulfilled' }]).state).toBe('pending');
  });
});

describe('reading an order’s status from Partner Center', () => {
  const ids = { requestId: 'r', correlationId: 'c' };
  const context = (provisioning: () => unknown): ServiceContext => ({
    partnerCenter: {
      send: async (request) => {
        const body = request.path.endsWith('/provisioningstatus') ? provisioning() : order('completed');
        return { status: 200, body, ids, attempts: 1 };
      },
      describe: () => ({ method: 'GET', url: '', headers: {} }),
    },
    correlationId: 'c',
    deadline: Date.now() + 5_000,
    dryRun: false,
  });

  it('answers from the order alone when Partner Center will not show provisioning (app-only credentials: 403; 404)', async () => {
    for (const status of [403, 404]) {
      const view = await readOrderStatus(
        context(() => {
          throw new PartnerCenterError(status, ids, '600004', 'Access is denied');
        }),
        'customer',
        'Cs_order',
      );
      expect(view).toMatchObject({ state: 'provisioned', provisioningStatusAvailable: false });
    }
  });

  it('fails on any other error of the provisioning read, and reads a bare array as leniently as a collection', async () => {
    await expect(
      readOrderStatus(
        context(() => {
          throw new PartnerCenterError(500, ids, undefined, undefined);
        }),
        'customer',
        'Cs_order',
      ),
    ).rejects.toBeInstanceOf(PartnerCenterError);
    const view = await readOrderStatus(
      context(() => [
        { lineItemNumber: 0, status: 'Fulfilled' },
        { lineItemNumber: 1, status: 'Unfulfilled' },
      ]),
      'customer',
      'Cs_order',
    );
    expect(view.state).toBe('provisioning');
  });
});

describe('a cart and its expiry', () => {
  const created = '2026-01-01T10:00:00.000Z';
  it('expires 7 days after creation when Partner Center gives no expirationTimestamp; an Ordered cart never', () => {
    const active = { id: 'c', status: 'Active', creationTimestamp: created };
    expect(cartView(active, Date.parse('2026-01-08T09:59:59Z'))).toMatchObject({
      expiresAt: '2026-01-08T10:00:00.000Z',
      expired: false,
    });
    expect(cartView(active, Date.parse('2026-01-08T10:00:00Z')).expired).toBe(true);
    expect(cartView({ ...active, status: 'Ordered' }, Date.parse('2027-01-01T00:00:00Z')).expired).toBe(false);
    expect(
      cartView({ ...active, expirationTimestamp: '2026-01-01T10:15:00Z' }, Date.parse('2026-01-01T10:16:00Z')),
    ).toMatchObject({ expiresAt: '2026-01-01T10:15:00.000Z', expired: true });
    expect(cartView({ id: 'c' }, 0)).toMatchObject({ expiresAt: null, expired: false });
  });
});

describe('provisioning tracking: schedule and budget', () => {
  it('polls 1, 2, 5, 10 and 15 minutes apart, then every 15 minutes (SQS’s longest delay)', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((poll) => delayAfter(poll, DEFAULT_POLL_DELAYS_SECONDS))).toEqual([
      60, 120, 300, 600, 900, 900, 900,
    ]);
    expect(readLifecycleConfig({}).pollDelaysSeconds).toEqual([60, 120, 300, 600, 900]);
    expect(pollDelays('5, 10')).toEqual([5, 10]);
    expect(() => pollDelays('60,901')).toThrow(/1 to 900/);
    expect(() => pollDelays('0')).toThrow();
    expect(() => readLifecycleConfig({ POLL_BUDGET_PER_MINUTE: '2' })).toThrow(/at least 3/);
  });

  it('stays well inside 500 requests per minute: the arithmetic of docs/after-purchase.md', () => {
    const cost = pollingCost(DEFAULT_POLL_DELAYS_SECONDS, 24 * 3_600_000);
    // Polls at 1, 3, 8, 18, 33 minutes, then every 15 up to 24 h (the last one at the window's end).
    expect(cost.polls).toBe(99);
    // Two reads per poll (the order, its provisioning status) and the subscriptions once: an order that never
    // provisions costs at most 199 requests over a day.
    expect(cost.requests).toBe(199);
    // Once polls are 15 minutes apart, an order costs 2 requests per 15 minutes.
    expect(cost.steadyRequestsPerMinute).toBeCloseTo(0.1333, 4);
    // The default budget (100 per minute, a fifth of 500) follows 750 orders at that pace; more are slowed down by
    // the budget (polls deferred a minute), never sped up past it.
    expect(readLifecycleConfig({}).pollBudgetPerMinute).toBe(100);
    expect(cost.ordersWithin(100)).toBe(750);
    // A fixed window can let two budgets land within 60 s at a minute's edge: 200, still well inside 500.
    expect(2 * readLifecycleConfig({}).pollBudgetPerMinute).toBeLessThan(500);
  });

  it('names the orders a purchase placed, from every kind of answer', () => {
    expect(ordersOf('createOrder', { id: 'A' })).toEqual(['A']);
    expect(ordersOf('addOnToOrder', { id: 'A', lineItems: [] })).toEqual(['A']);
    expect(ordersOf('checkoutCart', { orders: [{ id: 'A' }, { id: 'B' }], orderErrors: [] })).toEqual(['A', 'B']);
    expect(ordersOf('createCart', { cart: { id: 'c' }, checkout: { orders: [{ id: 'C' }] } })).toEqual(['C']);
    expect(ordersOf('createCart', { id: 'c', status: 'Active' })).toEqual([]);
    expect(ordersOf('createOrder', undefined)).toEqual([]);
  });

  it('publishes with the source of the purchase outcomes, which the command rule never routes back', () => {
    expect(LIFECYCLE_SOURCE).toBe(OUTCOME_SOURCE);
  });
});
