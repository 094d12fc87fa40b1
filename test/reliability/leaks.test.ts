// Suite 5 — leaks. Every reliability suite watches its own logs and answers (test/support/leaks.ts); this one drives
// the paths most likely to leak on purpose: a dry run with a live cached token, every way the credentials can be
// wrong (each holding recognisable secret values), the health check, the refresh-token keeper rotating a token,
// events and invocations that fail on credentials. No secret value, token or Authorization value may appear in any
// log line (at DEBUG), answer, outcome event, thrown error or health report.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { createHandler as createEventsHandler } from '../../functions/order-events/handler.js';
import type { OutcomeEvent } from '../../functions/shared/events.js';
import { createHandler as createKeeperHandler } from '../../functions/token-keeper/handler.js';
import { DEFAULT_SIMULATOR_CREDENTIALS } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { leakWatch } from '../support/leaks.js';
import { report } from '../support/reliability.js';
import { FakeSecretsManager } from '../support/secrets-manager.js';
import { eventBridgeEvent, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const leaks = leakWatch('leaks');
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDERS = `/customers/${CUSTOMER}/orders`;
const order = { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }] };
const SECRET_ID = 'partner-center';

/** Recognisable values, each only ever in a secret: any of them in a text is a leak. */
const PLANTED = {
  wrongClientSecret: 'planted-wrong-client-secret-1a2b3c',
  deadRefreshToken: 'planted-dead-refresh-token-4d5e6f',
  malformedSecret: 'planted-malformed-secret-7a8b9c',
  malformedRefresh: 'planted-malformed-refresh-0d1e2f',
};
leaks.secret(...Object.values(PLANTED));

const paths: string[] = [];

describe('leak-prone paths', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  let endpoint: string;
  beforeAll(async () => {
    endpoint = await fake.start();
    fake.put(SECRET_ID, JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS));
    stack = await startStack({ secrets: { fake, endpoint }, idempotency: {} });
  });
  afterAll(async () => {
    leaks.fromSimulator(stack.simulator);
    leaks.fromSecretsManager(fake);
    await stack.stop();
    await fake.stop();
  });

  const use = (changes: Record<string, unknown>) => {
    fake.put(SECRET_ID, JSON.stringify({ ...DEFAULT_SIMULATOR_CREDENTIALS, ...changes }));
    stack.simulator.revokeAccessTokens(); // the next call re-reads the secret
  };
  const call = async (path = ORDERS, body: unknown = order, headers: Record<string, string> = {}) => {
    const answer = await stack.request('POST', path, body, headers);
    leaks.response(answer.json);
    return answer;
  };

  it('a dry run with a live cached token shows the requests with the token redacted', async () => {
    expect((await call()).status).toBe(201); // a token is cached now
    const dry = await call(`${ORDERS}?dryRun=true`, order, { 'Idempotency-Key': 'leak-dry-run' });
    expect(dry.status).toBe(200);
    expect(dry.json.requests[0].headers.Authorization).toBe('Bearer [redacted]');
    paths.push('dry run (token cached)');
  });

  it.each([
    ['a client secret Entra refuses (invalid_client)', { clientSecret: PLANTED.wrongClientSecret }, 502],
    ['a refresh token Entra refuses (invalid_grant)', { refreshToken: PLANTED.deadRefreshToken }, 502],
    [
      'a malformed secret (wrong types next to secret values)',
      { tenantId: 'not a tenant!', clientSecret: 42, refreshToken: PLANTED.malformedRefresh },
      502,
    ],
    ['a secret with an extra secret-looking field', { password: PLANTED.malformedSecret, clientId: 7 }, 502],
  ])('%s: a credentials problem that names the problem, not the value', async (_, changes, status) => {
    use(changes);
    const answer = await call();
    expect(answer.status).toBe(status);
    expect(answer.json.type).toBe('urn:partner-orders:problem:credentials');
    paths.push(`credentials: ${_}`);
  });

  it('a secret that is not JSON at all (a pasted token) is refused without echoing it', async () => {
    fake.put(SECRET_ID, `${PLANTED.malformedSecret} ${PLANTED.malformedRefresh}`);
    stack.simulator.revokeAccessTokens();
    const answer = await call();
    expect(answer.status).toBe(502);
    expect(answer.json.detail).toContain('not valid JSON');
    paths.push('credentials: not JSON');
  });

  it('the health check reports on refused credentials with Entra’s error, not a value', async () => {
    use({ refreshToken: PLANTED.deadRefreshToken });
    const health = await fetch(`${stack.url}/health/credentials`);
    const text = await health.text();
    leaks.response(text);
    expect(health.status).toBe(503);
    expect(JSON.parse(text).problem).toMatchObject({ error: 'invalid_grant', aadsts: 'AADSTS700082' });
    use({});
    const healthy = await fetch(`${stack.url}/health/credentials`);
    leaks.response(await healthy.text());
    expect(healthy.status).toBe(200);
    paths.push('health check (refused and healthy)');
  });

  it('an event and a direct invocation failing on credentials: outcome events and thrown errors hold no value', async () => {
    use({ refreshToken: PLANTED.deadRefreshToken });
    const published: OutcomeEvent[] = [];
    const events = createEventsHandler({
      ...stack.deps,
      publish: async (outcomes) => {
        published.push(...outcomes);
      },
      delay: async () => undefined,
    });
    const error = await events(
      sqsEvent([
        sqsRecord(
          eventBridgeEvent('CreateOrder', {
            customerId: CUSTOMER,
            ...order,
            idempotencyKey: 'leaks-credentials-event',
          }),
        ),
      ]),
      lambdaContext(60_000),
    ).catch((e: Error) => e);
    leaks.response(String(error));
    leaks.response(published);
    const thrown = await createOrderHandler(stack.deps)(
      { customerId: CUSTOMER, ...order, idempotencyKey: 'leaks-credentials' },
      lambdaContext(),
    ).catch((e: Error & { problem?: unknown }) => e);
    expect((thrown as Error).name).toBe('PartnerOrdersRetryableError');
    leaks.response(`${String(thrown)} ${JSON.stringify((thrown as { problem?: unknown }).problem)}`);
    leaks.response((thrown as Error).stack ?? '');
    use({});
    paths.push('event and invocation on refused credentials');
  });

  it('the refresh-token keeper rotating the token logs and returns no token', async () => {
    use({});
    const client = new SecretsManagerClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    const keeper = createKeeperHandler({ client, secretId: SECRET_ID, authorityUrl: stack.simulator.url });
    const result = await keeper({}, lambdaContext(60_000));
    leaks.response(result);
    expect(result.rotated).toBe(true);
    // The keeper stored the token Entra handed back: a new value to watch for everywhere.
    leaks.fromSecretsManager(fake);
    paths.push('token keeper rotation');
  });
});

describe('leaks: figures', () => {
  it('leaks nothing anywhere', () => {
    const found = leaks.check();
    const messages = new Set(leaks.logs.lines().map((line) => JSON.parse(line).message as string));
    // The scan covered the failures it is about.
    expect(messages).toContain('request failed');
    expect(messages).toContain('command will be retried');
    report('leaks', { 'leak-prone paths driven': paths.length, paths });
    expect(found).toEqual([]);
  });
});
