// GET /customers/{customerId}/catalog?search=…&targetView=OnlineServices: find what to buy. Read-only (the JWT read
// scope); answers the matching products with their SKUs and purchasable catalog ids (functions/shared/catalog/).
// Wired without the idempotency store, which a read does not need: only the Partner Center client and the catalog.
import { randomUUID } from 'node:crypto';
import { TokenProvider } from '../shared/auth.js';
import { Catalog } from '../shared/catalog/reads.js';
import { searchCatalog } from '../shared/catalog/search.js';
import { readConfig } from '../shared/config.js';
import { credentialsFrom } from '../shared/credentials.js';
import { callerOf, type HttpContext, type HttpEvent, httpStack } from '../shared/http.js';
import { type HttpIdentity, identityFrom } from '../shared/identity/http.js';
import { logger } from '../shared/log.js';
import { PartnerCenterClient } from '../shared/partner-center/client.js';
import { readPolicyFromConfig } from '../shared/policy/from-config.js';
import type { ReadPolicy } from '../shared/policy/read.js';
import { CatalogQuery } from '../shared/schemas/catalog.js';
import { CustomerPath } from '../shared/schemas/ids.js';
import { parseParts } from '../shared/validation.js';

export interface CatalogDependencies {
  identity: HttpIdentity;
  partnerCenter: Pick<PartnerCenterClient, 'send'>;
  catalog: Catalog;
  maxRequestMs: number;
  deadlineMarginMs: number;
  /** Who may read which customer's catalog (policy/read.ts): asked before the catalog is read. */
  readPolicy: Pick<ReadPolicy, 'check'>;
}

export const createHandler = (deps: CatalogDependencies) =>
  httpStack(async (event: HttpEvent, context: HttpContext) => {
    const { path, query } = parseParts({
      path: [CustomerPath, event.pathParameters ?? {}],
      query: [CatalogQuery, event.queryStringParameters ?? {}],
    });
    logger.appendKeys({ customerId: path.customerId, operation: 'searchCatalog' });
    const remaining = context.getRemainingTimeInMillis?.() ?? deps.maxRequestMs;
    const deadline = Date.now() + Math.min(remaining - deps.deadlineMarginMs, deps.maxRequestMs);
    // Who reads: the verified caller (identity/http.ts), never the payload's say-so.
    const reader = callerOf(context);
    await deps.readPolicy.check(reader, 'catalog', [path.customerId], '/path/customerId', deadline);
    const result = await searchCatalog(
      deps.catalog,
      {
        partnerCenter: deps.partnerCenter,
        correlationId: context.correlationId ?? randomUUID(),
        deadline,
      },
      {
        customerId: path.customerId,
        search: query.search,
        ...(query.targetView ? { targetView: query.targetView } : {}),
      },
    );
    return {
      statusCode: 200,
      // Catalog ids are only good for a short time: nobody downstream keeps this answer.
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify(result),
    };
  }, deps.identity);

const config = readConfig();
const tokens = new TokenProvider({ authorityUrl: config.authorityUrl, credentials: credentialsFrom(config) });
export const handler = createHandler({
  identity: identityFrom(config),
  partnerCenter: new PartnerCenterClient({
    baseUrl: config.partnerCenterUrl,
    tokens,
    applicationName: config.applicationName,
    attemptTimeoutMs: config.attemptTimeoutMs,
    onRetry: ({ attempt, reason, delayMs, ids }) =>
      logger.warn('retrying Partner Center call', { attempt, reason, delayMs, upstreamRequestId: ids.requestId }),
  }),
  catalog: new Catalog({ ttlMs: config.catalogCacheMs }),
  maxRequestMs: config.maxRequestMs,
  deadlineMarginMs: config.deadlineMarginMs,
  readPolicy: readPolicyFromConfig(config),
});
