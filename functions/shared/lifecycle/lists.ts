// A customer's orders and subscriptions (Get-PartnerCustomerOrder / Get-PartnerCustomerSubscription without an id):
// one page of Partner Center's list per call, the next one behind `continuationToken`. The orders list lags: "a delay
// of up to 15 minutes between the time an order is submitted and when it appears" (get-all-of-a-customer-s-orders),
// so a purchase just placed may not be listed yet; `GET /purchases/{key}` and `GET …/orders/{orderId}` do not lag.
import { ValidationError } from '../errors.js';
import { decodeContinuation, encodeContinuation, nextPageRequest } from '../partner-center/pages.js';
import { Order, OrderCollection } from '../schemas/orders.js';
import { type ServiceContext, segment, sendFor } from '../services/context.js';
import { compiled } from '../validation.js';
import { Subscription } from './status.js';

export interface ListPage<T> {
  items: T[];
  /** Partner Center's count of the whole list, when it gives one. */
  totalCount: number | null;
  /** Send it back as `?continuationToken=` for the next page; absent on the last page. */
  continuationToken?: string;
}

async function readPage<T>(
  ctx: ServiceContext,
  step: string,
  listPath: string,
  first: string,
  continuationToken: string | undefined,
  item: (value: unknown) => T | undefined,
): Promise<ListPage<T>> {
  const request =
    continuationToken === undefined
      ? { method: 'GET' as const, path: first }
      : decodeContinuation(continuationToken, listPath);
  if (!request) {
    throw new ValidationError([
      {
        path: '/query/continuationToken',
        message: 'is not a continuation token of this list (send back the one answered)',
      },
    ]);
  }
  const page = await sendFor(ctx, step, request, OrderCollection, 'a collection');
  const next = nextPageRequest(page.links?.next, listPath);
  return {
    // An item this service cannot read is passed over rather than hiding the rest.
    items: (page.items ?? []).map(item).filter((value): value is T => value !== undefined),
    totalCount: page.totalCount ?? null,
    ...(next ? { continuationToken: encodeContinuation(next) } : {}),
  };
}

const readOrder = (value: unknown) => {
  const parsed = compiled(Order).safeParse(value);
  return parsed.success ? parsed.data : undefined;
};
const readSubscription = (value: unknown) => {
  const parsed = compiled(Subscription).safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

/** `GET /v1/customers/{id}/orders[?billingType=…]`, one page. */
export function listOrders(
  ctx: ServiceContext,
  customerId: string,
  query: { billingType?: string; continuationToken?: string },
): Promise<ListPage<Order>> {
  const listPath = `/v1/customers/${segment(customerId)}/orders`;
  const first = query.billingType ? `${listPath}?billingType=${encodeURIComponent(query.billingType)}` : listPath;
  return readPage(ctx, 'list-orders', listPath, first, query.continuationToken, readOrder);
}

/** `GET /v1/customers/{id}/subscriptions[?order_id=…]`, one page. */
export function listSubscriptions(
  ctx: ServiceContext,
  customerId: string,
  query: { orderId?: string; continuationToken?: string },
): Promise<ListPage<Subscription>> {
  const listPath = `/v1/customers/${segment(customerId)}/subscriptions`;
  const first = query.orderId ? `${listPath}?order_id=${encodeURIComponent(query.orderId)}` : listPath;
  return readPage(ctx, 'list-subscriptions', listPath, first, query.continuationToken, readSubscription);
}
