import type { Cart, CartCheckoutResult, Order } from './models.js';
import { Provisioning, type ProvisioningSnapshot } from './provisioning.js';
import { Subscriptions } from './subscriptions.js';

export interface CartRecord {
  cart: Cart;
  customerId: string;
  expiresAt: number;
  /** First successful checkout answer; re-checkouts repeat it (documented idempotency). */
  checkout?: CartCheckoutResult;
}

/** Customer ids are GUIDs, so compare them case-insensitively like the service. */
const customerKey = (customerId: string): string => customerId.toLowerCase();

/**
 * Committed state. The ledger arrays are the source of truth for reconciliation
 * tests, so they only ever receive resources whose creation was committed, and
 * they are cleared in place so references held by tests stay valid.
 */
export class Store {
  /** Purchases are checked against the simulator's catalog (SimulatorOptions.catalogChecks). */
  catalogChecks = false;
  /**
   * How long a new order stays out of the customer's orders list (SimulatorOptions.listLagMs). Partner Center
   * documents "a delay of up to 15 minutes between the time an order is submitted and when it appears in a collection
   * of a customer's orders".
   */
  listLagMs = 0;
  /** Items per page of the orders and subscriptions lists (pages.ts; SimulatorOptions.listPageSize). */
  listPageSize = 100;
  /** The ledger: changed only through addOrder, clear and restore, which keep the index beside it. */
  private readonly ledger: Order[] = [];
  get orders(): readonly Order[] {
    return this.ledger;
  }
  /** When each order's lines are provisioned (provisioning.ts). */
  readonly provisioning = new Provisioning();
  /** Subscriptions once read or changed: their seats, windows, auto-renew and scheduled changes (subscriptions.ts). */
  readonly subscriptions = new Subscriptions();
  readonly carts: Cart[] = [];
  private readonly cartIndex = new Map<string, CartRecord>();
  /**
   * The orders by customer and by id, in ledger order, so that a purchase or a read does not scan every order ever
   * placed (a run of thousands of purchases slowed each by the ones before). The ledger is read-only outside this
   * class, so the index cannot fall behind it; an order's id and customer never change once placed.
   */
  private ordersIndex = { byCustomer: new Map<string, Order[]>(), byId: new Map<string, Order[]>() };

  addOrder(order: Order): void {
    this.ledger.push(order);
    this.indexOrder(order);
  }

  findOrder(customerId: string, orderId: string): Order | undefined {
    const key = customerKey(customerId);
    return this.ordersById(orderId).find((o) => customerKey(o.referenceCustomerId) === key);
  }

  /** Every order with this id (one: ids are GUIDs), whatever its customer. */
  ordersById(orderId: string): readonly Order[] {
    return this.ordersIndex.byId.get(orderId) ?? [];
  }

  ordersOf(customerId: string): Order[] {
    return [...(this.ordersIndex.byCustomer.get(customerKey(customerId)) ?? [])];
  }

  private indexOrder(order: Order): void {
    const { byCustomer, byId } = this.ordersIndex;
    const key = customerKey(order.referenceCustomerId);
    const ofCustomer = byCustomer.get(key);
    if (ofCustomer) ofCustomer.push(order);
    else byCustomer.set(key, [order]);
    const withId = byId.get(order.id);
    if (withId) withId.push(order);
    else byId.set(order.id, [order]);
  }

  addCart(record: CartRecord): void {
    this.carts.push(record.cart);
    this.cartIndex.set(record.cart.id.toLowerCase(), record);
  }

  findCart(customerId: string, cartId: string): CartRecord | undefined {
    const record = this.cartIndex.get(cartId.toLowerCase());
    return record && customerKey(record.customerId) === customerKey(customerId) ? record : undefined;
  }

  /** The cart can no longer be read or checked out (404 800008), as a cart Partner Center no longer keeps. */
  forgetCart(cartId: string): boolean {
    return this.cartIndex.delete(cartId.toLowerCase());
  }

  clear(): void {
    this.ledger.length = 0;
    this.ordersIndex = { byCustomer: new Map(), byId: new Map() };
    this.provisioning.clear();
    this.subscriptions.clear();
    this.carts.length = 0;
    this.cartIndex.clear();
  }

  /** Everything committed, as JSON can hold it (SimulatorOptions.statePath: kept across restarts). */
  snapshot(): StoreSnapshot {
    return {
      orders: [...this.ledger],
      carts: [...this.cartIndex.values()],
      provisioning: this.provisioning.snapshot(),
    };
  }

  restore(snapshot: StoreSnapshot): void {
    this.clear();
    for (const order of snapshot.orders) this.addOrder(order);
    for (const record of snapshot.carts) this.addCart(record);
    this.provisioning.restore(snapshot.provisioning);
  }
}

export interface StoreSnapshot {
  orders: Order[];
  carts: CartRecord[];
  provisioning: ProvisioningSnapshot;
}
