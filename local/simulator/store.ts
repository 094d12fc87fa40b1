import type { Cart, CartCheckoutResult, Order } from './models.js';
import { Provisioning } from './provisioning.js';

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
  readonly orders: Order[] = [];
  /** When each order's lines are provisioned (provisioning.ts). */
  readonly provisioning = new Provisioning();
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
    this.carts.length = 0;
    this.cartIndex.clear();
  }
}
