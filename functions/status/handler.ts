// The read routes of what happens after a purchase (read scope; nothing here buys):
//   GET /customers/{customerId}/orders/{orderId}  the order, each line's provisioning status merged in, one state
//   GET /customers/{customerId}/carts/{cartId}    the cart, its status and expiry
//   GET /purchases/{idempotencyKey}               what became of the caller's purchases with that key
//   GET /customers/{customerId}                   whether the customer is this partner's (one read)
//   GET /customers/{customerId}/orders            the customer's orders, a page at a time
//   GET /customers/{customerId}/subscriptions     the customer's subscriptions, a page at a time
// Same validation and problem details as every route (http.ts's stack); answers are never cached (no-store).
import { randomUUID } from 'node:crypto';
import { readCustomer } from '../shared/customers/read.js';
import { IdempotencyStoreError, ValidationError } from '../shared/errors.js';
import type { PurchaseJournals } from '../shared/exactly-once/journals.js';
import { callerOf, type HttpContext, type HttpEvent, type HttpResult, httpStack } from '../shared/http.js';
import type { IdempotencyStore } from '../shared/idempotency.js';
import { type HttpIdentity, identityFrom } from '../shared/identity/http.js';
import { listOrders, listSubscriptions } from '../shared/lifecycle/lists.js';
import { describePurchases } from '../shared/lifecycle/purchases.js';
import { readCart, readOrderStatus } from '../shared/lifecycle/status.js';
import { lifecycleWiring } from '../shared/lifecycle/wiring.js';
import { logger } from '../shared/log.js';
import { readPolicyFromConfig } from '../shared/policy/from-config.js';
import type { ReadPolicy } from '../shared/policy/read.js';
import { PROBLEM_CONTENT_TYPE } from '../shared/problem.js';
import type { RouteKey } from '../shared/routes.js';
import { CartPath, CustomerPath, OrderPath } from '../shared/schemas/ids.js';
import { NoQuery, OrdersListQuery, PurchasePath, SubscriptionsListQuery } from '../shared/schemas/lifecycle.js';
import type { ServiceContext } from '../shared/services/context.js';
import { parseParts } from '../shared/validation.js';

export interface StatusDependencies {
  /** Who is asking (identity/http.ts): `GET /purchases/{key}` answers that caller's purchases only. */
  identity: HttpIdentity;
  partnerCenter: ServiceContext['partnerCenter'];
  /** The idempotency store and journals: without them `GET /purchases/{key}` answers 503, as a purchase with a key would. */
  idempotency?: Pick<IdempotencyStore, 'peek'>;
  journals?: PurchaseJournals;
  maxRequestMs: number;
  deadlineMarginMs: number;
  now?: () => number;
  /** Who may read which customer (policy/read.ts): asked before anything is read. */
  readPolicy: Pick<ReadPolicy, 'check'>;
}

const json = (body: unknown, status = 200): HttpResult => ({
  statusCode: status,
  headers: { 'Content-Type': status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(body),
});

export const createHandler = (deps: StatusDependencies) =>
  httpStack(async (event: HttpEvent, context: HttpContext) => {
    const routeKey = event.routeKey as RouteKey;
    const remaining = context.getRemainingTimeInMillis?.() ?? deps.maxRequestMs;
    const ctx: ServiceContext = {
      partnerCenter: deps.partnerCenter,
      correlationId: context.correlationId ?? randomUUID(),
      deadline: Date.now() + Math.min(remaining - deps.deadlineMarginMs, deps.maxRequestMs),
      dryRun: false,
    };
    const query: [typeof NoQuery, unknown] = [NoQuery, event.queryStringParameters ?? {}];
    // Who reads: the verified caller (identity/http.ts), never the payload's say-so.
    const reader = callerOf(context);
    switch (routeKey) {
      case 'GET /customers/{customerId}/orders/{orderId}': {
        const { path } = parseParts({ path: [OrderPath, event.pathParameters ?? {}], query });
        logger.appendKeys({ customerId: path.customerId, operation: 'readOrderStatus' });
        await deps.readPolicy.check(reader, 'order', [path.customerId], '/path/customerId', ctx.deadline);
        return json(await readOrderStatus(ctx, path.customerId, path.orderId));
      }
      case 'GET /customers/{customerId}/carts/{cartId}': {
        const { path } = parseParts({ path: [CartPath, event.pathParameters ?? {}], query });
        logger.appendKeys({ customerId: path.customerId, operation: 'readCart' });
        await deps.readPolicy.check(reader, 'cart', [path.customerId], '/path/customerId', ctx.deadline);
        return json(await readCart(ctx, path.customerId, path.cartId, (deps.now ?? Date.now)()));
      }
      case 'GET /customers/{customerId}': {
        const { path } = parseParts({ path: [CustomerPath, event.pathParameters ?? {}], query });
        logger.appendKeys({ customerId: path.customerId, operation: 'readCustomer' });
        await deps.readPolicy.check(reader, 'customer', [path.customerId], '/path/customerId', ctx.deadline);
        return json(await readCustomer(ctx, path.customerId));
      }
      case 'GET /customers/{customerId}/orders': {
        const parts = parseParts({
          path: [CustomerPath, event.pathParameters ?? {}],
          query: [OrdersListQuery, event.queryStringParameters ?? {}],
        });
        logger.appendKeys({ customerId: parts.path.customerId, operation: 'listOrders' });
        await deps.readPolicy.check(reader, 'orders', [parts.path.customerId], '/path/customerId', ctx.deadline);
        return json(await listOrders(ctx, parts.path.customerId, parts.query));
      }
      case 'GET /customers/{customerId}/subscriptions': {
        const parts = parseParts({
          path: [CustomerPath, event.pathParameters ?? {}],
          query: [SubscriptionsListQuery, event.queryStringParameters ?? {}],
        });
        logger.appendKeys({ customerId: parts.path.customerId, operation: 'listSubscriptions' });
        await deps.readPolicy.check(reader, 'subscriptions', [parts.path.customerId], '/path/customerId', ctx.deadline);
        return json(await listSubscriptions(ctx, parts.path.customerId, parts.query));
      }
      case 'GET /purchases/{idempotencyKey}': {
        const { path } = parseParts({ path: [PurchasePath, event.pathParameters ?? {}], query });
        logger.appendKeys({ operation: 'readPurchase' });
        if (!deps.journals || !deps.idempotency) {
          throw new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'));
        }
        // Scoped like the key itself: this caller's purchases only (caller.ts, as for the purchase).
        const answer = await describePurchases(
          { journals: deps.journals, idempotency: deps.idempotency },
          callerOf(context).caller,
          path.idempotencyKey,
        );
        // The customers are known once the purchases are found: every one of them must be readable.
        const customers = answer.purchases.map((purchase) => purchase.customerId);
        await deps.readPolicy.check(reader, 'purchase', customers, '/path/idempotencyKey', ctx.deadline);
        if (answer.purchases.length === 0) {
          return json(
            {
              type: 'urn:partner-orders:problem:not-found',
              title: 'Not found',
              status: 404,
              detail:
                'No purchase with this Idempotency-Key was sent to Partner Center by this caller (keys belong to their caller). A purchase refused before anything was sent is not listed: retry it with the key to get its answer.',
            },
            404,
          );
        }
        return json(answer);
      }
      default:
        throw new ValidationError([{ path: '/routeKey', message: `${event.routeKey} is not served here` }], 400);
    }
  }, deps.identity);

const wiring = lifecycleWiring();
export const handler = createHandler({
  identity: identityFrom(wiring.config),
  partnerCenter: wiring.partnerCenter,
  ...(wiring.table ? { idempotency: wiring.table.idempotency, journals: wiring.table.journals } : {}),
  maxRequestMs: wiring.config.maxRequestMs,
  deadlineMarginMs: wiring.config.deadlineMarginMs,
  readPolicy: readPolicyFromConfig(wiring.config),
});
