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
import { createHandler as createMcpHandler, quotesFrom } from '../functions/mcp/handler.js';
import { createHandler as createEventsHandler } from '../functions/order-events/handler.js';
import { readConfig } from '../functions/shared/config.js';
import type { HttpDependencies } from '../functions/shared/http.js';
import { logger } from '../functions/shared/log.js';
import { memoryQuotes, type QuoteStore } from '../functions/shared/mcp/quotes.js';
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
  options: {
    allowedHosts?: readonly string[];
    /**
     * POST /mcp: where its quotes are kept (default: the idempotency table when IDEMPOTENCY_TABLE_NAME names one, as
     * in `npm start`, else memory) and whether it lists the tools that buy (default: MCP_WRITES=true).
     */
    mcp?: { quotes?: QuoteStore; writes?: boolean };
  } = {},
): Server {
  // Reads ask the purchases' engine (locally: allow-all and the guardrails, with cedar-wasm).
  const readPolicy = deps.readPolicy ?? new ReadPolicy(deps.policy.engine);
  const routed = {
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
  };
  // The MCP route dispatches each tool call to the handlers above, as the deployed one does to its bundled ones.
  const mcp = createMcpHandler({
    identity: deps.identity,
    handlerOf: async (name) => {
      if (name === 'mcp') throw new Error('the MCP route does not call itself');
      return routed[name];
    },
    quotes: options.mcp?.quotes ?? (process.env.IDEMPOTENCY_TABLE_NAME ? quotesFrom(readConfig()) : memoryQuotes()),
    writes: options.mcp?.writes ?? process.env.MCP_WRITES === 'true',
  });
  return createLocalServer({
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    handlers: { ...routed, mcp },
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
