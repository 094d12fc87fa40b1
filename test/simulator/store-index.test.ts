// The simulator's store finds orders through an index by customer and by id (a run of thousands of purchases no longer
// scans every order per request): the index must answer as the scan did, in ledger order, customer ids compared
// case-insensitively, and follow the ledger when a test changes it by hand.
import { describe, expect, it } from 'vitest';
import { buildOrder } from '../../local/simulator/orders.js';
import { Store } from '../../local/simulator/store.js';

const A = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const B = '9b2504e0-4f89-11d3-9a0c-0305e82c3309';
const order = (customer: string, offerId = 'CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P') =>
  buildOrder(customer, 'monthly', [{ offerId, quantity: 1 }], Date.parse('2026-02-01T09:00:00Z'));

describe('simulator store: orders by customer and by id', () => {
  it('answers as a scan of the ledger would: per customer in ledger order, case-insensitively; by id per customer', () => {
    const store = new Store();
    const placed = [order(A), order(B), order(A.toUpperCase()), order(B), order(A)];
    for (const o of placed) store.addOrder(o);
    const scan = (customer: string) =>
      store.orders.filter((o) => o.referenceCustomerId.toLowerCase() === customer.toLowerCase());
    expect(store.ordersOf(A)).toEqual(scan(A));
    expect(store.ordersOf(A).map((o) => o.id)).toEqual([placed[0], placed[2], placed[4]].map((o) => o?.id));
    expect(store.ordersOf(B.toUpperCase())).toEqual(scan(B));
    const second = placed[1];
    if (!second) throw new Error('no order');
    expect(store.findOrder(B.toUpperCase(), second.id)).toBe(second);
    // Another customer's order is not found under this one.
    expect(store.findOrder(A, second.id)).toBeUndefined();
    // What a caller does with the list it got does not change the store's.
    store.ordersOf(A).length = 0;
    expect(store.ordersOf(A)).toHaveLength(3);
  });

  it('keeps the ledger read-only outside the store (the index cannot fall behind it), and empties both together', () => {
    const store = new Store();
    const first = order(A);
    store.addOrder(first);
    // Never called: the compiler refuses a change to the ledger from outside (npm run typecheck).
    const _outside = () => {
      // @ts-expect-error the ledger is changed only through addOrder, clear and restore
      store.orders.push(order(A));
    };
    // A snapshot is a copy: restoring it elsewhere, or changing it, leaves this store's index as it was.
    const snapshot = store.snapshot();
    snapshot.orders.length = 0;
    expect(store.findOrder(A, first.id)).toBe(first);
    const copy = new Store();
    copy.restore(store.snapshot());
    expect(copy.ordersOf(A).map((o) => o.id)).toEqual(store.orders.map((o) => o.id));
    store.clear();
    expect(store.ordersOf(A)).toEqual([]);
    expect(store.ordersById(first.id)).toEqual([]);
  });
});
