import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretsManagerCredentials } from '../../functions/shared/credentials.js';
import { CredentialsError } from '../../functions/shared/errors.js';
import { FakeSecretsManager } from '../support/secrets-manager.js';

const SECRET = 'partner-orders/partner-center';
const value = (clientSecret: string) =>
  JSON.stringify({ tenantId: 'contoso.onmicrosoft.com', clientId: 'client-1', clientSecret, refreshToken: 'rt-1' });

describe('credentials from Secrets Manager (real SDK, loopback endpoint)', () => {
  const fake = new FakeSecretsManager();
  let client: SecretsManagerClient;

  beforeAll(async () => {
    const endpoint = await fake.start();
    client = new SecretsManagerClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      maxAttempts: 1,
    });
  });
  afterAll(() => fake.stop());

  it('reads once per TTL, shares one read between concurrent callers, and re-reads on demand', async () => {
    fake.put(SECRET, value('secret-v1'));
    let now = 0;
    const source = secretsManagerCredentials({ secretId: SECRET, ttlMs: 300_000, client, now: () => now });
    fake.calls.length = 0;
    const first = await Promise.all(Array.from({ length: 20 }, () => source.load()));
    expect(first.every((c) => c.clientSecret === 'secret-v1')).toBe(true);
    for (let i = 0; i < 100; i++) await source.load();
    expect(fake.count('GetSecretValue')).toBe(1);

    fake.put(SECRET, value('secret-v2'));
    now += 299_000;
    expect((await source.load()).clientSecret).toBe('secret-v1');
    expect((await source.load({ reload: true })).clientSecret).toBe('secret-v2');
    expect(fake.count('GetSecretValue')).toBe(2);

    now += 301_000;
    await Promise.all(Array.from({ length: 10 }, () => source.load()));
    expect(fake.count('GetSecretValue')).toBe(3);
    expect(fake.calls.every((c) => c.body.SecretId === SECRET)).toBe(true);
  });

  it('keeps the secret version id with the credentials', async () => {
    const version = fake.put(SECRET, value('secret-v3'));
    const source = secretsManagerCredentials({ secretId: SECRET, ttlMs: 1, client });
    expect((await source.load({ reload: true })).version).toBe(version);
  });

  it('a missing secret is a configuration problem (502); an outage is worth retrying (503)', async () => {
    const missing = secretsManagerCredentials({ secretId: 'nope', ttlMs: 1000, client });
    await expect(missing.load()).rejects.toMatchObject({ name: 'CredentialsError', unavailable: false });

    fake.failWith = { status: 500, type: 'InternalServiceError' };
    const down = secretsManagerCredentials({ secretId: SECRET, ttlMs: 1000, client });
    const error = await down.load().catch((e: unknown) => e);
    fake.failWith = undefined;
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({
      unavailable: true,
      message: 'Could not read the Partner Center credentials secret (InternalServiceError)',
    });
  });

  it('a malformed secret names the field, never the value', async () => {
    fake.put(SECRET, JSON.stringify({ tenantId: 't', clientId: 'c', clientSecret: '' }));
    const source = secretsManagerCredentials({ secretId: SECRET, ttlMs: 1000, client });
    const error = (await source.load().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('The Partner Center credentials are malformed: /clientSecret must not be empty');
  });
});
