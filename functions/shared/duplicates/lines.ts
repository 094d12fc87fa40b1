// What makes two purchases "the same": the customer and, line by line, the catalog or offer id, the quantity, the
// term, the billing cycle and (for add-ons) the parent subscription, canonical and order-insensitive. An order and a
// cart checkout of the same lines are the same purchase; a cart created without checkout buys nothing, and a checkout
// by cart id has its lines in the cart, so neither is compared.
import { hash } from 'node:crypto';
import type { Command } from '../purchase/model.js';
import type { CreateCartRequest } from '../schemas/carts.js';
import type { CreateOrderRequest } from '../schemas/orders.js';

interface Line {
  id: string;
  quantity: number;
  term: string;
  billing: string;
  parent: string;
}

const canonical = (line: Line) =>
  JSON.stringify([line.id.toLowerCase(), line.quantity, line.term.toUpperCase(), line.billing, line.parent]);

/** The purchase's lines in canonical form, sorted; undefined for a command that places no order from its own lines. */
export function canonicalLines(command: Command): string[] | undefined {
  let lines: Line[];
  if (command.operation === 'createCart') {
    const cart = command.input as CreateCartRequest;
    if (cart.checkout !== true) return undefined;
    lines = cart.lineItems.map((line) => ({
      id: line.catalogItemId,
      quantity: line.quantity,
      term: line.termDuration ?? '',
      billing: line.billingCycle,
      parent: String(line.provisioningContext?.ParentSubscriptionId ?? '').toLowerCase(),
    }));
  } else if (command.operation === 'createOrder' || command.operation === 'addOnToOrder') {
    const order =
      command.operation === 'createOrder'
        ? (command.input as CreateOrderRequest)
        : (command.input as { order: CreateOrderRequest }).order;
    lines = order.lineItems.map((line) => ({
      id: line.offerId,
      quantity: line.quantity,
      term: line.termDuration ?? '',
      // "The default is Monthly … at order creation" (order-resources.md).
      billing: order.billingCycle ?? 'monthly',
      parent: (line.parentSubscriptionId ?? '').toLowerCase(),
    }));
  } else {
    return undefined;
  }
  return lines.map(canonical).sort();
}

/** sha256 of the customer and its canonical lines: the purchase's name in the recent-purchases records. */
export const purchaseDigest = (customerId: string, lines: readonly string[]) =>
  hash('sha256', JSON.stringify([customerId.toLowerCase(), lines]));
