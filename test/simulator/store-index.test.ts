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

  it('follows the ledger when it is changed by hand, and is emptied with it', () => {
    const store = new Store();
    store.addOrder(order(A));
    const extra = order(A);
    store.orders.push(extra);
    expect(store.findOrder(A, extra.id)).toBe(extra);
    expect(store.ordersOf(A)).toHaveLength(2);
    store.orders.length = 0;
    expect(store.ordersOf(A)).toEqual([]);
    expect(store.findOrder(A, extra.id)).toBeUndefined();
    store.addOrder(order(B));
    store.clear();
    expect(store.ordersOf(B)).toEqual([]);
    expect(store.ordersById(extra.id)).toEqual([]);
  });
});
