// Suite 3 — credentials. The Partner Center credentials live in Secrets Manager (here the FakeSecretsManager, which
// speaks its protocol to the real SDK): they rotate in the middle of a run under load, the refresh token dies
// (invalid_grant), Secrets Manager goes away. Extends test/integration/local-server.test.ts (one request each) to
// concurrent load, counts of reads and redemptions, the alarm on the log line, and a cold start without the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/shared/config.js';
import { credentialsFrom } from '../../functions/shared/credentials.js';
import { createDependencies } from '../../functions/shared/dependencies.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { synth } from '../support/infra.js';
import { invokeOrder } from '../support/invoke.js';
import { leakWatch } from '../support/leaks.js';
import { ALLOW_ALL_POLICY } from '../support/policy.js';
import { count, Histogram, pool, report, sleep, timeout } from '../support/reliability.js';
import { FakeSecretsManager } from '../support/secrets-manager.js';
import { eventBridgeEvent, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDERS = `/customers/${CUSTOMER}/orders`;
const order = { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }] };
const SECRET_ID = 'partner-center';

const leaks = leakWatch('credentials');
const figures: Record<string, unknown> = {};

const credentialsJson = (changes: Partial<typeof DEFAULT_SIMULATOR_CREDENTIALS> = {}) =>
  JSON.stringify({ ...DEFAULT_SIMULATOR_CREDENTIALS, ...changes });

/**
 * A cold request against a Secrets Manager that accepts connections and never answers, with the client built as in
 * Lambda (from the environment). Started by the describe that calls it, on its own: its bound is about timers, which
 * the load of the other scenarios in this process would delay by seconds.
 */
const probeHungSecretsManager = () => {
  const fake = new FakeSecretsManager();
  const simulator = new PartnerCenterSimulator();
  const ENV = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  const saved = Object.fromEntries(Object.keys(ENV).map((name) => [name, process.env[name]]));
  let proxy: TcpProxy | undefined;
  let settle: (result: { answer: string; ms: number }) => void = () => undefined;
  const probe = new Promise<{ answer: string; ms: number }>((resolve) => {
    settle = resolve;
  });
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson());
    proxy = await startTcpProxy(endpoint);
    proxy.set({ kind: 'blackhole' });
    await simulator.start();
    // The SDK's own configuration from the environment (other clients here name their endpoint explicitly).
    Object.assign(process.env, { ...ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint });
    const config = readConfig({
      PARTNER_CENTER_URL: simulator.url,
      PARTNER_CENTER_AUTHORITY_URL: simulator.url,
      PARTNER_CENTER_SECRET_ID: SECRET_ID,
      // About the Secrets Manager client alone: no key, so no idempotency store either.
      IDEMPOTENCY_KEY_REQUIRED: 'false',
      // Nor the catalog pre-flight: these purchases are about credentials (test/integration/catalog.test.ts has it).
      PREFLIGHT: 'off',
    });
    const handler = invokeOrder({
      ...createDependencies(config, credentialsFrom(config)),
      policy: ALLOW_ALL_POLICY,
    });
    const started = performance.now();
    void Promise.race([
      handler({ customerId: CUSTOMER, ...order }, lambdaContext()).then(
        () => 'answered',
        (error: Error) => error.message,
      ),
      sleep(6_000 + BUSY_SLACK_MS).then(() => `no answer after ${6_000 + BUSY_SLACK_MS} ms`),
    ]).then((answer) => {
      proxy?.set({ kind: 'down' }); // lets a hung request end
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      settle({ answer, ms: Math.round(performance.now() - started) });
    });
  });
  afterAll(async () => {
    await probe;
    leaks.fromSimulator(simulator);
    await proxy?.stop();
    await simulator.stop();
    await fake.stop();
  });
  return { probe };
};

/**
 * The stack's metric filters, evaluated on a log line: the alarm fires on a line the filter matches. Only the
 * pattern shapes the stack uses (`$.field = "value"` and `$.field IS TRUE|FALSE`, each optionally in parentheses,
 * joined by &&) are understood; anything else fails the test.
 */
let filtersOfStack: { metric: string; matches: (line: string) => boolean }[] | undefined;
function metricFilters(): { metric: string; matches: (line: string) => boolean }[] {
  filtersOfStack ??= readMetricFilters();
  return filtersOfStack;
}

function readMetricFilters(): { metric: string; matches: (line: string) => boolean }[] {
  const { template } = synth();
  const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties);
  const seen = new Map<string, (line: string) => boolean>();
  for (const filter of filters) {
    const pattern = String(filter.FilterPattern);
    const terms = pattern
      .replace(/^\{\s*|\s*\}$/g, '')
      .split('&&')
      .map((term) => {
        const bare = term.trim().replace(/^\((.*)\)$/, '$1');
        const m =
          /^\s*\$\.([\w.]+)\s*=\s*"([^"]*)"\s*$/.exec(bare) ?? /^\s*\$\.([\w.]+)\s+IS\s+(TRUE|FALSE)\s*$/.exec(bare);
        if (!m) throw new Error(`metric filter pattern not understood: ${pattern}`);
        return {
          path: (m[1] as string).split('.'),
          value: (m[2] as string).replace(/^(TRUE|FALSE)$/, (b) => b.toLowerCase()),
        };
      });
    seen.set(filter.MetricTransformations[0].MetricName, (line: string) => {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return false;
      }
      return terms.every(({ path, value }) => {
        let node: unknown = entry;
        for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key];
        return String(node) === value;
      });
    });
  }
  return [...seen].map(([metric, matches]) => ({ metric, matches }));
}

describe('credentials rotate in the middle of a run', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson());
    stack = await startStack({ secrets: { fake, endpoint }, idempotency: {} });
  });
  afterAll(async () => {
    leaks.fromSimulator(stack.simulator);
    leaks.fromSecretsManager(fake);
    await stack.stop();
    await fake.stop();
  });

  it(
    'under concurrent load: the 401s after the rotation cause one re-read and one redemption, and every request succeeds',
    async () => {
      const n = count(60, 400);
      const rotateAt = Math.floor(n / 3);
      // Warm: one read, one token.
      expect((await stack.request('POST', ORDERS, order)).status).toBe(201);
      const readsBefore = fake.count('GetSecretValue');
      const tokensBefore = stack.simulator.tokenRequests;
      const statuses = new Histogram();
      const rotation = {
        clientSecret: 'rotated-client-secret-4f1d9a',
        refreshToken: 'rotated-refresh-token-8c2e7b',
      };
      await pool(
        8,
        Array.from({ length: n }, (_, i) => async () => {
          if (i === rotateAt) {
            // A person rotates both secrets in Entra and stores them; Partner Center drops the old access tokens.
            fake.put(SECRET_ID, credentialsJson(rotation));
            stack.simulator.rotateCredentials(rotation);
            stack.simulator.revokeAccessTokens();
          }
          const answer = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': `rotation-${i}` });
          leaks.response(answer.json);
          statuses.add(String(answer.status));
        }),
      );
      const rereads = fake.count('GetSecretValue') - readsBefore;
      const redemptions = stack.simulator.tokenRequests - tokensBefore;
      figures['rotation under load'] = {
        requests: n,
        concurrency: 8,
        answers: statuses.toJSON(),
        rereads,
        redemptions,
      };
      expect(statuses.toJSON()).toEqual({ 201: n });
      expect(rereads).toBe(1);
      expect(redemptions).toBe(1);
      expect(leaks.scan().leaks).toEqual([]);
    },
    timeout(60_000, 180_000),
  );
});

describe('a rotated client secret met at token renewal (access tokens expire, none revoked)', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson());
    // Tokens that live 5 minutes are renewed on every request (the renewal margin is 5 minutes).
    stack = await startStack({ secrets: { fake, endpoint }, simulator: { tokenLifetimeSeconds: 300 } });
  });
  afterAll(async () => {
    leaks.fromSimulator(stack.simulator);
    leaks.fromSecretsManager(fake);
    await stack.stop();
    await fake.stop();
  });

  // Was a defect (a 502, and only the next request re-read the secret): when Entra refuses the *cached* credentials
  // (invalid_client after the client secret was rotated in Entra and in the secret), TokenProvider re-reads the
  // secret once and, as it changed, redeems again within the same request, as a Partner Center 401 does.
  it('the request that meets the refusal re-reads the secret and succeeds', async () => {
    expect((await stack.request('POST', ORDERS, order)).status).toBe(201);
    const reads = fake.count('GetSecretValue');
    const tokens = stack.simulator.tokenRequests;
    const rotation = { clientSecret: 'rotated-client-secret-77aa01' };
    fake.put(SECRET_ID, credentialsJson(rotation));
    stack.simulator.rotateCredentials(rotation);
    const answer = await stack.request('POST', ORDERS, order);
    leaks.response(answer.json);
    figures['client secret rotated, met at renewal'] = {
      'first answer': `${answer.status} ${answer.json.type ?? ''}`,
      'secret reads': fake.count('GetSecretValue') - reads,
      redemptions: stack.simulator.tokenRequests - tokens,
    };
    expect(answer.status).toBe(201);
    expect(fake.count('GetSecretValue') - reads).toBe(1);
    // The refused one and the one that worked, for the cart; one more for its checkout (an order is a cart and its
    // checkout, and these 5-minute tokens are renewed on every call).
    expect(stack.simulator.tokenRequests - tokens).toBe(3);
  });

  it('…and the request after it succeeds (one re-read)', async () => {
    const reads = fake.count('GetSecretValue');
    const answer = await stack.request('POST', ORDERS, order);
    expect(answer.status).toBe(201);
    expect(fake.count('GetSecretValue') - reads).toBeLessThanOrEqual(1);
  });
});

describe('the refresh token is refused (invalid_grant)', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  const DEAD = 'dead-refresh-token-5e0c33';
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson({ refreshToken: DEAD }));
    stack = await startStack({ secrets: { fake, endpoint }, idempotency: {} });
  });
  afterAll(async () => {
    leaks.fromSimulator(stack.simulator);
    leaks.fromSecretsManager(fake);
    leaks.secret(DEAD);
    await stack.stop();
    await fake.stop();
  });

  // Its first metricFilters() synthesizes the stack: tens of seconds on a busy machine.
  it(
    'every request gets a clear 502 credentials problem naming the AADSTS code, not the token; no retry storm',
    async () => {
      const n = count(10, 40);
      const logged = leaks.mark();
      const started = performance.now();
      const answers = await pool(
        4,
        Array.from(
          { length: n },
          (_, i) => () => stack.request('POST', ORDERS, order, { 'Idempotency-Key': `dead-${i}` }),
        ),
      );
      const elapsed = performance.now() - started;
      for (const answer of answers) {
        leaks.response(answer.json);
        expect(answer.status).toBe(502);
        expect(answer.headers.get('content-type')).toBe('application/problem+json');
        expect(answer.json).toMatchObject({
          type: 'urn:partner-orders:problem:credentials',
          title: 'Partner Center credentials were refused',
          detail: expect.stringContaining('invalid_grant AADSTS700082'),
        });
        expect(JSON.stringify(answer.json)).not.toContain(DEAD);
      }
      // Bounded work per request: at most one read of the secret and one redemption, no loop.
      const reads = fake.count('GetSecretValue');
      const redemptions = stack.simulator.tokenRequests;
      expect(reads).toBeLessThanOrEqual(n + 1);
      expect(redemptions).toBeLessThanOrEqual(n + 1);
      expect(stack.simulator.ledger.orders).toHaveLength(0);

      // Alarm-able: the stack's metric filter (InvalidGrant) matches the ERROR line of each request, which carries the
      // AADSTS code as a field.
      const lines = logged();
      const filters = metricFilters();
      const invalidGrant = filters.find((f) => f.metric === 'InvalidGrant');
      expect(invalidGrant, 'the stack has an InvalidGrant metric filter').toBeDefined();
      const alarming = lines.filter((line) => invalidGrant?.matches(line));
      expect(alarming.length).toBeGreaterThanOrEqual(n);
      for (const line of alarming) {
        expect(JSON.parse(line)).toMatchObject({ credentialProblem: 'invalid_grant', aadsts: 'AADSTS700082' });
      }
      const errors = alarming.map((line) => JSON.parse(line)).filter((entry) => entry.level === 'ERROR');
      expect(errors).toHaveLength(n);
      expect(errors[0]).toMatchObject({ message: 'request failed', status: 502 });
      figures.invalid_grant = {
        requests: n,
        answers: '502 credentials (AADSTS700082)',
        'secret reads': reads,
        redemptions,
        'log lines matching the InvalidGrant metric filter': alarming.length,
        'ms for all': Math.round(elapsed),
      };
    },
    timeout(90_000, 180_000),
  );

  it('the event path retries the command (it is not rejected: the purchase must survive the fix) and alarms too', async () => {
    const logged = leaks.mark();
    const { handler, published } = recordingEventsHandler(stack.deps);
    const record = sqsRecord(
      eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...order, idempotencyKey: 'dead-event-0' }),
    );
    await expect(handler(sqsEvent([record]), lambdaContext(60_000))).rejects.toThrow(/All records failed/);
    expect(published).toEqual([]);
    const invalidGrant = metricFilters().find((f) => f.metric === 'InvalidGrant');
    const alarming = logged().filter((line) => invalidGrant?.matches(line));
    expect(alarming.map((line) => JSON.parse(line).message)).toContain('command will be retried');
  });

  it('direct invocation throws PartnerOrdersRetryableError naming the AADSTS code, and alarms', async () => {
    const logged = leaks.mark();
    const invoke = invokeOrder(stack.deps);
    await expect(
      invoke({ customerId: CUSTOMER, ...order, idempotencyKey: 'dead-invoke-0' }, lambdaContext()),
    ).rejects.toMatchObject({
      name: 'PartnerOrdersRetryableError',
      message: expect.stringContaining('AADSTS700082'),
    });
    const invalidGrant = metricFilters().find((f) => f.metric === 'InvalidGrant');
    expect(logged().some((line) => invalidGrant?.matches(line))).toBe(true);
  });

  it('recovers at once when a valid refresh token is stored', async () => {
    fake.put(SECRET_ID, credentialsJson());
    const answer = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': 'dead-0' });
    expect(answer.status).toBe(201);
    expect(stack.simulator.ledger.orders).toHaveLength(1);
  });
});

describe('Secrets Manager is unavailable', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson());
    fake.failWith = { status: 503, type: 'ServiceUnavailable' };
    stack = await startStack({ secrets: { fake, endpoint }, idempotency: {} });
  });
  afterAll(async () => {
    leaks.fromSimulator(stack.simulator);
    leaks.fromSecretsManager(fake);
    await stack.stop();
    await fake.stop();
  });

  it('on a cold start: every request is a quick 503 with Retry-After, nothing is bought, then it recovers', async () => {
    const n = count(8, 30);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const answer = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': `sm-down-${i}` });
      times.push(performance.now() - started);
      leaks.response(answer.json);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(answer.json).toMatchObject({
        type: 'urn:partner-orders:problem:credentials',
        title: 'Partner Center credentials are unavailable',
        detail: expect.stringContaining('ServiceUnavailable'),
      });
    }
    const reads = fake.count('GetSecretValue');
    // Quick: the SDK's retries of an immediate 503, not the request's deadline (MAX_REQUEST_MS, 29 s); the slack is
    // for a busy machine.
    expect(Math.max(...times)).toBeLessThan(3_000 + BUSY_SLACK_MS);
    // The SDK's own retries (3 attempts) and no more: no loop.
    expect(reads).toBeLessThanOrEqual(3 * n);
    expect(stack.simulator.requests.filter((r) => r.path.startsWith('/v1/'))).toHaveLength(0);
    fake.failWith = undefined;
    const recovered = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': 'sm-down-0' });
    expect(recovered.status).toBe(201);
    figures['Secrets Manager down (cold start)'] = {
      requests: n,
      answers: '503 credentials, Retry-After: 5',
      'slowest ms': Math.round(Math.max(...times)),
      'GetSecretValue calls': reads,
      'then, with Secrets Manager back': recovered.status,
    };
  });

  it('warm: requests keep succeeding on the cached credentials; only a request that must re-read gets a 503', async () => {
    fake.failWith = { status: 503, type: 'ServiceUnavailable' };
    const warm = await stack.request('POST', ORDERS, order);
    expect(warm.status).toBe(201);
    stack.simulator.revokeAccessTokens(); // the next call's 401 asks for a re-read, which fails
    const reread = await stack.request('POST', ORDERS, order);
    expect(reread.status).toBe(503);
    const after = await stack.request('POST', ORDERS, order);
    fake.failWith = undefined;
    // Redeeming a new token does not need the store: the cached credentials are still good.
    expect(after.status).toBe(201);
    figures['Secrets Manager down (warm)'] = {
      'cached credentials': warm.status,
      'forced re-read': reread.status,
      next: after.status,
    };
  });

  it.each([
    ['AccessDeniedException', 400, 502],
    ['ResourceNotFoundException', 400, 502],
    ['ThrottlingException', 400, 503],
    ['InternalServiceError', 500, 503],
  ])('%s (HTTP %i) is a %i credentials problem', async (type, status, expected) => {
    expect((await stack.request('POST', ORDERS, order)).status).toBe(201); // a token to be refused
    fake.failWith = { status, type };
    stack.simulator.revokeAccessTokens();
    const answer = await stack.request('POST', ORDERS, order);
    fake.failWith = undefined;
    leaks.response(answer.json);
    expect(answer.status).toBe(expected);
    expect(answer.json.type).toBe('urn:partner-orders:problem:credentials');
    expect(answer.json.detail).toContain(type);
  });
});

describe('Secrets Manager does not answer (a network partition): the production client', () => {
  // Was a defect: `secretsManagerCredentials` built `new SecretsManagerClient({})`, whose requests have no timeout, so
  // a Secrets Manager that accepts the connection and never answers held every cold request until the Lambda timed
  // out. Now it is built with SECRETS_MANAGER_CLIENT_CONFIG (3 attempts × 1 s, `throwOnRequestTimeout`), as the
  // idempotency store's is.
  const hungSecretsManager = probeHungSecretsManager();
  it('a cold request is answered 503 within 6 s', async () => {
    const { answer, ms } = await hungSecretsManager.probe;
    figures['Secrets Manager not answering (cold)'] = { answer, ms };
    // The client's own timeouts end it (a TimeoutError, 3 attempts × 1 s); the wall clock only tells it from a hang,
    // with room for timers that fire late on a busy machine.
    expect(answer).toMatch(/^503 Partner Center credentials are unavailable: .*TimeoutError/);
    expect(ms).toBeLessThan(6_000 + BUSY_SLACK_MS);
  }, 20_000);
});

describe("a hung Secrets Manager or Entra ID costs a request its deadline, not more (token acquisition is bounded by the call's deadline)", () => {
  // Was a defect: the Partner Center client got its token before its deadline loop, so neither the secret read nor the
  // redemption counted against the request's deadline (and in the event consumer one hung read held the whole batch).
  // Here the request deadline is 1.5 s (MAX_REQUEST_MS) and nothing else is quicker: the test stack's Secrets
  // Manager client has no timeouts, and a redemption gives up after 10 s.
  const fake = new FakeSecretsManager();
  let secrets: TcpProxy;
  let entra: TcpProxy;
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put(SECRET_ID, credentialsJson());
    secrets = await startTcpProxy(endpoint);
    entra = await startTcpProxy('http://127.0.0.1:9'); // never forwarded: it only ever plays a hung Entra ID
    entra.set({ kind: 'blackhole' });
    stack = await startStack({
      secrets: { fake, endpoint: secrets.endpoint },
      idempotency: {},
      env: { PARTNER_CENTER_AUTHORITY_URL: entra.endpoint, MAX_REQUEST_MS: '1500', DEADLINE_MARGIN_MS: '500' },
    });
  });
  afterAll(async () => {
    secrets.set({ kind: 'down' });
    leaks.fromSimulator(stack.simulator);
    await stack.stop();
    await secrets.stop();
    await entra.stop();
    await fake.stop();
  });

  const timed = async <T>(work: () => Promise<T>) => {
    const started = performance.now();
    const result = await work();
    return { result, ms: Math.round(performance.now() - started) };
  };

  it('Secrets Manager accepts and never answers (cold): 503 at the deadline, nothing sent', async () => {
    secrets.set({ kind: 'blackhole' });
    const { result: answer, ms } = await timed(() =>
      stack.request('POST', ORDERS, order, { 'Idempotency-Key': 'hung-secrets-0' }),
    );
    secrets.set({ kind: 'up' });
    figures['Secrets Manager hung, deadline 1.5 s'] = { answer: answer.status, ms };
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({
      type: 'urn:partner-orders:problem:credentials',
      detail: expect.stringContaining("request's deadline"),
    });
    expect(answer.headers.get('retry-after')).toBe('5');
    // At the 1.5 s deadline (the detail says so), not never; the slack is for timers late on a busy machine.
    expect(ms).toBeLessThan(1_500 + BUSY_SLACK_MS);
    expect(stack.simulator.requests.filter((r) => r.path.startsWith('/v1/'))).toHaveLength(0);
  });

  it('Entra ID accepts and never answers: 503 at the deadline instead of after the 10 s redemption bound', async () => {
    const { result: answer, ms } = await timed(() =>
      stack.request('POST', ORDERS, order, { 'Idempotency-Key': 'hung-entra-0' }),
    );
    figures['Entra ID hung, deadline 1.5 s'] = { answer: answer.status, ms };
    expect(answer.status).toBe(503);
    expect(answer.json.detail).toContain("request's deadline");
    // At the 1.5 s deadline, well before the 10 s redemption bound, even with timers late on a busy machine.
    expect(ms).toBeLessThan(1_500 + BUSY_SLACK_MS);
    expect(stack.simulator.requests.filter((r) => r.path.startsWith('/v1/'))).toHaveLength(0);
  });

  it('the event consumer: a batch of 10 behind a hung Entra ID is handed back for retry at its deadline, not stalled', async () => {
    const { handler, published } = recordingEventsHandler(stack.deps);
    const records = Array.from({ length: 10 }, (_, i) =>
      sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...order, idempotencyKey: `hung-batch-${i}` })),
    );
    const { result: error, ms } = await timed(() =>
      handler(sqsEvent(records), lambdaContext(2_500)).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    figures['Entra ID hung, batch of 10, 2.5 s left'] = { ms };
    expect(String(error)).toMatch(/All records failed/); // every record retried, none rejected
    expect(published).toEqual([]);
    // At the batch's deadline (2.5 s left), not one hung redemption (10 s) after another; slack for a busy machine.
    expect(ms).toBeLessThan(2_500 + BUSY_SLACK_MS);
  });
});

describe('credentials: figures and leaks', () => {
  it('prints the figures and leaks no secret', () => {
    report('credentials', figures);
    expect(leaks.check()).toEqual([]);
  });
});
