import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redeemToken } from '../../functions/shared/auth.js';
import { createHandler } from '../../functions/token-keeper/handler.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { FakeSecretsManager } from '../support/secrets-manager.js';
import { type Stack, startStack } from '../support/stack.js';

const logs = captureLogs();
const SECRET = 'partner-center';
const TEN_DAYS_AGO = new Date(Date.now() - 10 * 86_400_000);

/** EMF lines Powertools Metrics wrote, as { metric: value }. */
const metricsWritten = () =>
  logs
    .lines()
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('token keeper (simulator token endpoint, loopback Secrets Manager)', () => {
  const simulator = new PartnerCenterSimulator();
  const fake = new FakeSecretsManager();
  let client: SecretsManagerClient;
  let authorityUrl: string;
  const keeper = () => createHandler({ client, secretId: SECRET, authorityUrl })({}, lambdaContext(60_000));

  beforeAll(async () => {
    authorityUrl = await simulator.start();
    client = new SecretsManagerClient({
      endpoint: await fake.start(),
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    await simulator.stop();
    await fake.stop();
  });
  beforeEach(() => {
    logs.clear();
    fake.calls.length = 0;
  });

  it('redeems the refresh token and writes the new one as a new version, keeping the JSON and a rollback point', async () => {
    const stored = { ...DEFAULT_SIMULATOR_CREDENTIALS, note: 'kept as it is' };
    const firstVersion = fake.put(SECRET, JSON.stringify(stored), TEN_DAYS_AGO);
    const report = await keeper();

    expect(report).toMatchObject({
      healthy: true,
      rotated: true,
      authMode: 'app+user',
      tokenAcquired: true,
      previousVersionId: firstVersion,
    });
    expect(report.refreshTokenAgeDays).toBe(0);
    expect(report.daysUntilInactivityExpiry).toBe(90);
    const current = fake.current(SECRET);
    expect(current?.id).toBe(report.secretVersionId);
    const written = JSON.parse(current?.value ?? '{}');
    expect(written).toEqual({ ...stored, refreshToken: expect.stringMatching(/^sim-refresh-token-\d+$/) });
    expect(written.refreshToken).not.toBe(stored.refreshToken);
    expect(fake.versions(SECRET).find((v) => v.id === firstVersion)?.stages).toEqual(['AWSPREVIOUS']);
    // The written token works.
    await expect(
      redeemToken({ authorityUrl, credentials: written, refreshToken: written.refreshToken }),
    ).resolves.toMatchObject({ mode: 'app+user' });

    const emf = metricsWritten().at(-1);
    expect(emf).toMatchObject({ CredentialCheckFailed: 0, RefreshTokenAgeDays: 0, service: 'token-keeper' });
    expect(logs.text()).not.toContain(written.refreshToken);
    expect(logs.text()).not.toContain(DEFAULT_SIMULATOR_CREDENTIALS.clientSecret);
  });

  it('reports the age of the stored token before rotating it', async () => {
    fake.put(SECRET, JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS), TEN_DAYS_AGO);
    const stub = (async () =>
      new Response(
        JSON.stringify({
          access_token: 'a',
          expires_in: '3600',
          refresh_token: DEFAULT_SIMULATOR_CREDENTIALS.refreshToken,
        }),
        {
          status: 200,
        },
      )) as unknown as typeof fetch;
    // Entra answered with the same refresh token: nothing to write.
    const report = await createHandler({ client, secretId: SECRET, authorityUrl, fetch: stub })(
      {},
      lambdaContext(60_000),
    );
    expect(report).toMatchObject({ rotated: false, healthy: true });
    expect(report.refreshTokenAgeDays).toBeCloseTo(10, 1);
    expect(report.daysUntilInactivityExpiry).toBeCloseTo(80, 1);
    expect(fake.count('PutSecretValue')).toBe(0);
    expect(metricsWritten().at(-1)).toMatchObject({ RefreshTokenAgeDays: report.refreshTokenAgeDays });
  });

  it('writes nothing for app-only credentials (no refresh token to keep)', async () => {
    const { refreshToken: _, ...appOnly } = DEFAULT_SIMULATOR_CREDENTIALS;
    fake.put(SECRET, JSON.stringify(appOnly));
    const report = await keeper();
    expect(report).toMatchObject({ authMode: 'app-only', rotated: false, tokenAcquired: true });
    expect(fake.count('PutSecretValue')).toBe(0);
  });

  it('lets one of two concurrent keepers write; the other is refused, re-reads and keeps the winner', async () => {
    fake.put(SECRET, JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS), TEN_DAYS_AGO);
    const before = fake.versions(SECRET).length;
    fake.holdReadsUntil(2); // both read the same version before either writes
    fake.hold('DescribeSecret', 2); // and both see it still current: the write itself must settle it
    const reports = await Promise.all([keeper(), keeper()]);

    expect(reports.filter((r) => r.rotated)).toHaveLength(1);
    const loser = reports.find((r) => !r.rotated);
    expect(loser).toMatchObject({ conflict: true });
    expect(fake.versions(SECRET).length).toBe(before + 1);
    expect(fake.count('PutSecretValue')).toBe(2);
    expect(fake.count('GetSecretValue')).toBe(3);
    const winner = reports.find((r) => r.rotated);
    expect(loser?.secretVersionId).toBe(winner?.secretVersionId);
    const stored = JSON.parse(fake.current(SECRET)?.value ?? '{}');
    await expect(
      redeemToken({ authorityUrl, credentials: stored, refreshToken: stored.refreshToken }),
    ).resolves.toBeTruthy();
  });

  it('writes nothing over a version stored after it read (a re-consent during the redemption): that version stays current', async () => {
    const read = fake.put(SECRET, JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS), TEN_DAYS_AGO);
    const reconsented = JSON.stringify({
      ...DEFAULT_SIMULATOR_CREDENTIALS,
      clientSecret: 'new-client-secret-from-a-person',
      refreshToken: 'reconsented-refresh-token',
    });
    let stored: string | undefined;
    // Entra answers with a rotated refresh token; meanwhile a person stores new credentials.
    const entra = (async () => {
      stored = fake.put(SECRET, reconsented);
      return new Response(
        JSON.stringify({ access_token: 'a', expires_in: '3600', refresh_token: 'rotated-by-keeper' }),
        {
          status: 200,
        },
      );
    }) as unknown as typeof fetch;
    const report = await createHandler({ client, secretId: SECRET, authorityUrl, fetch: entra })(
      {},
      lambdaContext(60_000),
    );
    expect(report).toMatchObject({ rotated: false, conflict: true, secretVersionId: stored, previousVersionId: read });
    expect(fake.count('DescribeSecret')).toBe(1);
    expect(fake.count('PutSecretValue')).toBe(0);
    expect(fake.current(SECRET)).toMatchObject({ id: stored, value: reconsented });
    expect(logs.text()).not.toContain('rotated-by-keeper');
  });

  it('fails without writing when it cannot check the current version', async () => {
    fake.put(SECRET, JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS), TEN_DAYS_AGO);
    const before = fake.current(SECRET)?.id;
    const entra = (async () => {
      fake.failWith = { status: 500, type: 'InternalServiceError' };
      return new Response(
        JSON.stringify({ access_token: 'a', expires_in: '3600', refresh_token: 'rotated-by-keeper' }),
        {
          status: 200,
        },
      );
    }) as unknown as typeof fetch;
    const failed = createHandler({ client, secretId: SECRET, authorityUrl, fetch: entra })({}, lambdaContext(60_000));
    await expect(failed).rejects.toMatchObject({ name: 'CredentialsError', unavailable: true });
    fake.failWith = undefined;
    expect(fake.count('PutSecretValue')).toBe(0);
    expect(fake.current(SECRET)?.id).toBe(before);
    expect(metricsWritten().at(-1)).toMatchObject({ CredentialCheckFailed: 1 });
  });

  it('on invalid_grant: fails, writes nothing, counts the failure, and logs the AADSTS code without the token', async () => {
    fake.put(SECRET, JSON.stringify({ ...DEFAULT_SIMULATOR_CREDENTIALS, refreshToken: 'expired-refresh-token-value' }));
    await expect(keeper()).rejects.toMatchObject({
      name: 'CredentialsError',
      entra: { error: 'invalid_grant', aadsts: 'AADSTS700082' },
    });
    expect(fake.count('PutSecretValue')).toBe(0);
    expect(metricsWritten().at(-1)).toMatchObject({ CredentialCheckFailed: 1 });
    const failure = logs
      .lines()
      .map((l) => JSON.parse(l))
      .find((l) => l.message === 'credential check failed');
    expect(failure).toMatchObject({ level: 'ERROR', credentialProblem: 'invalid_grant', aadsts: 'AADSTS700082' });
    expect(logs.text()).not.toContain('expired-refresh-token-value');
    expect(logs.text()).not.toContain(DEFAULT_SIMULATOR_CREDENTIALS.clientSecret);
  });
});

describe('GET /health/credentials', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put('partner-center', JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS), TEN_DAYS_AGO);
    stack = await startStack({ secrets: { fake, endpoint } });
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('redeems a token now and reports mode and age, never a value', async () => {
    const tokens = stack.simulator.tokenRequests;
    const result = await stack.request('GET', '/health/credentials');
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({
      healthy: true,
      authMode: 'app+user',
      tokenAcquired: true,
      secretVersionId: fake.current('partner-center')?.id,
    });
    expect(result.json.refreshTokenAgeDays).toBeCloseTo(10, 1);
    expect(result.json.daysUntilInactivityExpiry).toBeCloseTo(80, 1);
    expect(stack.simulator.tokenRequests).toBe(tokens + 1);
    expect(JSON.stringify(result.json)).not.toMatch(/sim-client-secret|sim-refresh-token/);
  });

  it('answers 503 with the AADSTS code when the refresh token is refused', async () => {
    fake.put('partner-center', JSON.stringify({ ...DEFAULT_SIMULATOR_CREDENTIALS, refreshToken: 'dead-token-value' }));
    const result = await stack.request('GET', '/health/credentials');
    expect(result.status).toBe(503);
    expect(result.json).toMatchObject({
      healthy: false,
      tokenAcquired: false,
      problem: { error: 'invalid_grant', aadsts: 'AADSTS700082' },
    });
    expect(JSON.stringify(result.json)).not.toContain('dead-token-value');
  });

  it('refuses query parameters it does not know', async () => {
    const result = await stack.request('GET', '/health/credentials?verbose=true');
    expect(result.status).toBe(400);
    expect(result.json.errors).toEqual([{ path: '/query/verbose', message: 'is not a known field' }]);
  });
});
