// GET /health/credentials: redeems a Partner Center token now (nothing cached, nothing stored) and reports the auth
// mode, whether a token was acquired, and how old the stored refresh token is — never a secret value.
// 200 when a token was acquired, 503 when not (with Entra's error and AADSTS code).
import { readConfig } from '../shared/config.js';
import { type CredentialsSource, credentialsFrom } from '../shared/credentials.js';
import { checkCredentials } from '../shared/credentials-health.js';
import { ValidationError } from '../shared/errors.js';
import { type HttpEvent, httpStack } from '../shared/http.js';
import { type HttpIdentity, identityFrom } from '../shared/identity/http.js';
import { logger } from '../shared/log.js';

export interface HealthDependencies {
  identity: HttpIdentity;
  credentials: CredentialsSource;
  authorityUrl: string;
  fetch?: typeof fetch;
}

export const createHandler = (deps: HealthDependencies) =>
  httpStack(async (event: HttpEvent) => {
    const unexpected = Object.keys(event.queryStringParameters ?? {});
    if (unexpected.length > 0) {
      throw new ValidationError(
        unexpected.map((name) => ({ path: `/query/${name}`, message: 'is not a known field' })),
      );
    }
    // The newest stored version, not this container's cached copy: the check is about what is stored now.
    const credentials = await deps.credentials.load({ reload: true });
    const { granted: _granted, ...report } = await checkCredentials({
      credentials,
      authorityUrl: deps.authorityUrl,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    if (!report.healthy) {
      logger.error('credential check failed', {
        credentialProblem: report.problem?.error,
        aadsts: report.problem?.aadsts,
      });
    }
    return {
      statusCode: report.healthy ? 200 : 503,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: JSON.stringify(report),
    };
  }, deps.identity);

const config = readConfig();
export const handler = createHandler({
  identity: identityFrom(config),
  credentials: credentialsFrom(config),
  authorityUrl: config.authorityUrl,
});
