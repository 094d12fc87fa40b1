// The local application: the route table's handlers plus the local-only endpoints, wired from one set of
// dependencies. `npm start` and the integration tests both serve exactly this.
import type { Server } from 'node:http';
import { type CatalogDependencies, createHandler as createCatalogHandler } from '../functions/catalog/handler.js';
import { createHandler as createCartHandler } from '../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import {
  createHandler as createHealthHandler,
  type HealthDependencies,
} from '../functions/credentials-health/handler.js';
import { createHandler as createEventsHandler } from '../functions/order-events/handler.js';
import type { HttpDependencies } from '../functions/shared/http.js';
import { logger } from '../functions/shared/log.js';
import { ReadPolicy } from '../functions/shared/policy/read.js';
import { createHandler as createStatusHandler } from '../functions/status/handler.js';
import { createHandler as createSubscriptionsHandler } from '../functions/subscriptions/handler.js';
import { localQueueProvenance } from './event-records.js';
import { eventsEndpoint } from './events-endpoint.js';
import { openApiEndpoint } from './openapi-endpoint.js';
import { createLocalServer } from './server.js';

export function createLocalApp(
  deps: HttpDependencies &
    HealthDependencies &
    Omit<CatalogDependencies, 'readPolicy'> &
    Partial<Pick<CatalogDependencies, 'readPolicy'>>,
  options: { allowedHosts?: readonly string[] } = {},
): Server {
  // Reads ask the purchases' engine (locally: allow-all and the guardrails, with cedar-wasm).
  const readPolicy = deps.readPolicy ?? new ReadPolicy(deps.policy.engine);
  return createLocalServer({
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    handlers: {
      'create-order': createOrderHandler(deps),
      'create-cart': createCartHandler(deps),
      'credentials-health': createHealthHandler(deps),
      // The same catalog as the pre-flight's: a search warms the purchase that follows it.
      catalog: createCatalogHandler({ ...deps, readPolicy }),
      // The read routes after a purchase, on the same store: GET /purchases/{key} reads its journals.
      status: createStatusHandler({
        ...deps,
        readPolicy,
        ...(deps.idempotency?.journals ? { journals: deps.idempotency.journals } : {}),
      }),
      subscriptions: createSubscriptionsHandler(deps),
    },
    extra: [
      openApiEndpoint,
      // Outcome events go back in the answer instead of to a bus; a 429 delay is only logged.
      eventsEndpoint((event, context, published) =>
        createEventsHandler({
          ...deps,
          publish: async (outcomes) => {
            published.push(...outcomes);
          },
          proveOrigin: localQueueProvenance,
          delay: async (record, seconds) => {
            logger.info('(local) message would be delayed before its next delivery', {
              messageId: record.messageId,
              seconds,
            });
          },
        })(event, context),
      ),
    ],
  });
}
