// Undoing a purchase and deciding what renews (docs/after-purchase.md, "Undoing a purchase"):
//   GET  /customers/{customerId}/subscriptions/{subscriptionId}                        the subscription and its windows
//   POST …/cancel | …/reduce | …/auto-renew | …/scheduled-changes | …/scheduled-changes/cancel
// The changes run through the same perform() as purchases (Idempotency-Key, ?dryRun, the policy's subscription
// actions). API Gateway events only: a direct invocation goes to invoke-purchase (`command: 'ChangeSubscription'`).
import { randomUUID } from 'node:crypto';
import { readConfig } from '../shared/config.js';
import { createDependencies } from '../shared/dependencies.js';
import {
  type HttpContext,
  type HttpDependencies,
  type HttpEvent,
  httpHandler,
  httpStack,
  operation,
} from '../shared/http.js';
import { identityFrom } from '../shared/identity/http.js';
import { logger } from '../shared/log.js';
import { NoQuery } from '../shared/schemas/lifecycle.js';
import type { ServiceContext } from '../shared/services/context.js';
import {
  autoRenewCommand,
  cancelCommand,
  cancelScheduleCommand,
  reduceCommand,
  scheduleCommand,
} from '../shared/subscriptions/commands.js';
import {
  AutoRenewRequest,
  CancelRequest,
  ReduceRequest,
  ScheduleRequest,
  SubscriptionPath,
} from '../shared/subscriptions/schemas.js';
import { readSubscription, viewOf } from '../shared/subscriptions/service.js';
import { parseParts } from '../shared/validation.js';

const READ_ROUTE = 'GET /customers/{customerId}/subscriptions/{subscriptionId}';

export const createHandler = (dependencies: HttpDependencies) => {
  const changes = httpHandler(
    {
      'POST /customers/{customerId}/subscriptions/{subscriptionId}/cancel': operation({
        path: SubscriptionPath,
        body: CancelRequest,
        bodyOptional: true,
        command: ({ path }) => cancelCommand(path.customerId, path.subscriptionId),
      }),
      'POST /customers/{customerId}/subscriptions/{subscriptionId}/reduce': operation({
        path: SubscriptionPath,
        body: ReduceRequest,
        command: ({ path, body }) => reduceCommand(path.customerId, path.subscriptionId, body),
      }),
      'POST /customers/{customerId}/subscriptions/{subscriptionId}/auto-renew': operation({
        path: SubscriptionPath,
        body: AutoRenewRequest,
        command: ({ path, body }) => autoRenewCommand(path.customerId, path.subscriptionId, body),
      }),
      'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes': operation({
        path: SubscriptionPath,
        body: ScheduleRequest,
        command: ({ path, body }) => scheduleCommand(path.customerId, path.subscriptionId, body),
      }),
      'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes/cancel': operation({
        path: SubscriptionPath,
        body: CancelRequest,
        bodyOptional: true,
        command: ({ path }) => cancelScheduleCommand(path.customerId, path.subscriptionId),
      }),
    },
    dependencies,
  );
  // The read: one GET, no key, never cached.
  const read = httpStack(async (event: HttpEvent, context: HttpContext) => {
    const { path } = parseParts({
      path: [SubscriptionPath, event.pathParameters ?? {}],
      query: [NoQuery, event.queryStringParameters ?? {}],
    });
    logger.appendKeys({ customerId: path.customerId, operation: 'readSubscription' });
    const remaining = context.getRemainingTimeInMillis?.() ?? dependencies.maxRequestMs;
    const ctx: ServiceContext = {
      partnerCenter: dependencies.partnerCenter,
      correlationId: context.correlationId ?? randomUUID(),
      deadline: Date.now() + Math.min(remaining - dependencies.deadlineMarginMs, dependencies.maxRequestMs),
      dryRun: false,
    };
    const subscription = await readSubscription(ctx, path.customerId, path.subscriptionId);
    const now = dependencies.subscriptions?.now ?? Date.now;
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify(viewOf(subscription, now())),
    };
  }, dependencies.identity);
  return (event: HttpEvent, context: HttpContext) =>
    event.routeKey === READ_ROUTE ? read(event, context) : changes(event, context);
};

const config = readConfig();
export const handler = createHandler({ ...createDependencies(config), identity: identityFrom(config) });
