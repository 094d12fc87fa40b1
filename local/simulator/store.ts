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
  readonly orders: Order[] = [];
  /** When each order's lines are provisioned (provisioning.ts). */
  readonly provisioning = new Provisioning();
  /** Subscriptions once read or changed: their seats, windows, auto-renew and scheduled changes (subscriptions.ts). */
  readonly subscriptions = new Subscriptions();
  readonly carts: Cart[] = [];
  private readonly cartIndex = new Map<string, CartRecord>();

  addOrder(order: Order): void {
    this.orders.push(order);
  }

  findOrder(customerId: string, orderId: string): Order | undefined {
    const key = customerKey(customerId);
    return this.orders.find((o) => o.id === orderId && customerKey(o.referenceCustomerId) === key);
  }

  ordersOf(customerId: string): Order[] {
    const key = customerKey(customerId);
    return this.orders.filter((o) => customerKey(o.referenceCustomerId) === key);
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
    this.orders.length = 0;
    this.provisioning.clear();
    this.subscriptions.clear();
    this.carts.length = 0;
    this.cartIndex.clear();
  }

  /** Everything committed, as JSON can hold it (SimulatorOptions.statePath: kept across restarts). */
  snapshot(): StoreSnapshot {
    return { orders: this.orders, carts: [...this.cartIndex.values()], provisioning: this.provisioning.snapshot() };
  }

  restore(snapshot: StoreSnapshot): void {
    this.clear();
    this.orders.push(...snapshot.orders);
    for (const record of snapshot.carts) this.addCart(record);
    this.provisioning.restore(snapshot.provisioning);
  }
}

export interface StoreSnapshot {
  orders: Order[];
  carts: CartRecord[];
  provisioning: ProvisioningSnapshot;
}
