import { describe, expect, it } from 'vitest';
import { PARTNER_CENTER_RESOURCE, TokenProvider } from '../../functions/shared/auth.js';
import { type Credentials, parseCredentials } from '../../functions/shared/credentials.js';
import { CredentialsError } from '../../functions/shared/errors.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const APP_USER = JSON.stringify({
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '22222222-2222-4222-8222-222222222222',
  clientSecret: 'super-secret-value',
  refreshToken: 'refresh-token-0',
});
const APP_ONLY = JSON.stringify({ tenantId: 't1', clientId: 'c1', clientSecret: 'super-secret-value' });

function entra(reply: (form: URLSearchParams, n: number) => Response) {
  const forms: URLSearchParams[] = [];
  const urls: string[] = [];
  const fetch: typeof globalThis.fetch = (async (url: string, init: RequestInit) => {
    const form = init.body as URLSearchParams;
    forms.push(form);
    urls.push(url);
    await new Promise((r) => setTimeout(r, 5));
    return reply(form, forms.length);
  }) as unknown as typeof globalThis.fetch;
  return { fetch, forms, urls };
}

const ok = (n: number, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ token_type: 'Bearer', expires_in: '3600', access_token: `access-${n}`, ...extra }), {
    status: 200,
  });

function source(json: string) {
  const loads: boolean[] = [];
  let credentials: Credentials = parseCredentials(json, 'v1');
  return {
    loads,
    replace: (next: string, version: string) => {
      credentials = parseCredentials(next, version);
    },
    load: async (options?: { reload?: boolean }) => {
      loads.push(Boolean(options?.reload));
      return credentials;
    },
  };
}

describe('TokenProvider', () => {
  it('redeems the refresh token (app+user) at {authority}/{tenant}/oauth2/token for Partner Center', async () => {
    const { fetch, forms, urls } = entra((_, n) => ok(n, { refresh_token: `refresh-token-${n}` }));
    const provider = new TokenProvider({ authorityUrl: 'https://login.test', credentials: source(APP_USER), fetch });
    const token = await provider.get();
    expect(token).toMatchObject({ value: 'access-1', mode: 'app+user' });
    expect(urls[0]).toBe('https://login.test/contoso.onmicrosoft.com/oauth2/token');
    expect(Object.fromEntries(forms[0] ?? [])).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-token-0',
      resource: PARTNER_CENTER_RESOURCE,
      client_id: '22222222-2222-4222-8222-222222222222',
    });
  });

  it('uses client credentials (app-only) when there is no refresh token', async () => {
    const { fetch, forms } = entra((_, n) => ok(n));
    const token = await new TokenProvider({
      authorityUrl: 'https://login.test',
      credentials: source(APP_ONLY),
      fetch,
    }).get();
    expect(token.mode).toBe('app-only');
    expect(forms[0]?.get('grant_type')).toBe('client_credentials');
    expect(forms[0]?.has('refresh_token')).toBe(false);
  });

  it('caches the token until shortly before expiry and shares one refresh between concurrent callers', async () => {
    let now = 1_000_000;
    const { fetch, forms } = entra((_, n) => ok(n));
    const provider = new TokenProvider({
      authorityUrl: 'https://l',
      credentials: source(APP_ONLY),
      fetch,
      now: () => now,
    });
    const first = await Promise.all(Array.from({ length: 20 }, () => provider.get()));
    expect(new Set(first.map((t) => t.value))).toEqual(new Set(['access-1']));
    now += 3_000_000; // 50 min: still valid with a 5 min margin
    expect((await provider.get()).value).toBe('access-1');
    now += 400_000; // inside the margin
    const renewed = await Promise.all(Array.from({ length: 20 }, () => provider.get()));
    expect(new Set(renewed.map((t) => t.value))).toEqual(new Set(['access-2']));
    expect(forms).toHaveLength(2);
  });

  it('uses the rotated refresh token next time, until the stored credentials change', async () => {
    const { fetch, forms } = entra((_, n) => ok(n, { refresh_token: `refresh-token-${n}` }));
    const credentials = source(APP_USER);
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials, fetch });
    const first = await provider.get();
    await provider.get({ rejected: first });
    expect(forms.map((f) => f.get('refresh_token'))).toEqual(['refresh-token-0', 'refresh-token-1']);
    credentials.replace(APP_USER.replace('refresh-token-0', 'refresh-token-new'), 'v2');
    await provider.get({ rejected: await provider.get() });
    expect(forms.at(-1)?.get('refresh_token')).toBe('refresh-token-new');
  });

  it('re-reads the credentials after a 401 once, however many callers saw it', async () => {
    const { fetch, forms } = entra((_, n) => ok(n));
    const credentials = source(APP_ONLY);
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials, fetch });
    const stale = await provider.get();
    const next = await Promise.all(Array.from({ length: 10 }, () => provider.get({ rejected: stale })));
    expect(new Set(next.map((t) => t.value))).toEqual(new Set(['access-2']));
    expect(await provider.get({ rejected: stale })).toMatchObject({ value: 'access-2' }); // already replaced
    expect(credentials.loads).toEqual([false, true]);
    expect(forms).toHaveLength(2);
  });

  it('names the AADSTS code of a refused grant, never a secret', async () => {
    const { fetch } = entra(
      () =>
        new Response(
          JSON.stringify({
            error: 'invalid_grant',
            error_description: 'AADSTS700082: The refresh token has expired due to inactivity. Trace ID: x',
            error_codes: [700082],
          }),
          { status: 400 },
        ),
    );
    const error = await new TokenProvider({ authorityUrl: 'https://l', credentials: source(APP_USER), fetch })
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({ entra: { error: 'invalid_grant', aadsts: 'AADSTS700082' }, unavailable: false });
    expect(String((error as Error).message)).not.toMatch(/super-secret|refresh-token-0/);
  });

  it('re-reads the credentials after Entra refused them, so a fixed secret works at once', async () => {
    const { fetch } = entra((form, n) =>
      form.get('refresh_token') === 'refresh-token-0'
        ? new Response(JSON.stringify({ error: 'invalid_grant', error_codes: [700082] }), { status: 400 })
        : ok(n),
    );
    const credentials = source(APP_USER);
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials, fetch });
    await expect(provider.get()).rejects.toMatchObject({ entra: { aadsts: 'AADSTS700082' } });
    credentials.replace(APP_USER.replace('refresh-token-0', 'refresh-token-reconsented'), 'v2');
    await expect(provider.get()).resolves.toMatchObject({ mode: 'app+user' });
    // The refused request re-read once (the secret had not changed, so no second redemption); the next one re-reads.
    expect(credentials.loads).toEqual([false, true, true]);
  });

  it('when Entra refuses cached credentials, re-reads the secret and redeems again within the same request', async () => {
    let now = 1_000_000;
    const { fetch, forms } = entra((form, n) =>
      form.get('client_secret') === 'super-secret-value'
        ? new Response(JSON.stringify({ error: 'invalid_client', error_codes: [7000215] }), { status: 401 })
        : ok(n),
    );
    // A store and this container's cached copy of it (as secretsManagerCredentials keeps one for its TTL).
    let stored = parseCredentials(APP_ONLY.replace('super-secret-value', 'first-secret'), 'v1');
    let cached: Credentials | undefined;
    const loads: boolean[] = [];
    const credentials = {
      load: async (options?: { reload?: boolean }) => {
        loads.push(Boolean(options?.reload));
        if (options?.reload || !cached) cached = stored;
        return cached;
      },
    };
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials, fetch, now: () => now });
    expect((await provider.get()).value).toBe('access-1');
    // A person rotates the client secret in Entra and in the store; Entra now refuses the old one. The token is
    // renewed before the container's cached copy expires.
    stored = parseCredentials(APP_ONLY.replace('super-secret-value', 'rotated-secret'), 'v2');
    cached = parseCredentials(APP_ONLY, 'v1'); // the copy this container holds, with a secret Entra refuses now
    now += 3_400_000;
    const renewed = await provider.get();
    expect(renewed.value).toBe('access-3');
    expect(forms.map((f) => f.get('client_secret'))).toEqual(['first-secret', 'super-secret-value', 'rotated-secret']);
    expect(loads).toEqual([false, false, true]);
  });

  it('redeems a refused secret once: an unchanged re-read is not sent to Entra again', async () => {
    const { fetch, forms } = entra(
      () => new Response(JSON.stringify({ error: 'invalid_client', error_codes: [7000215] }), { status: 401 }),
    );
    const credentials = source(APP_ONLY);
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials, fetch });
    await expect(provider.get()).rejects.toMatchObject({ entra: { error: 'invalid_client' }, unavailable: false });
    expect(forms).toHaveLength(1);
    expect(credentials.loads).toEqual([false, true]);
  });

  it("gives up at the caller's deadline with a 503-type CredentialsError; the shared acquisition goes on for the others", async () => {
    let answer: (() => void) | undefined;
    const fetch = (async () => {
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      return ok(1);
    }) as unknown as typeof globalThis.fetch;
    const provider = new TokenProvider({ authorityUrl: 'https://l', credentials: source(APP_ONLY), fetch });
    const started = Date.now();
    const patient = provider.get();
    const hurried = provider.get({ deadline: Date.now() + 50 }).catch((e: unknown) => e);
    const error = await hurried;
    // At its 50 ms deadline, not with the fetch that never answers; the slack is for a busy machine.
    expect(Date.now() - started).toBeLessThan(50 + BUSY_SLACK_MS);
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error).toMatchObject({ unavailable: true, message: expect.stringContaining("request's deadline") });
    answer?.();
    await expect(patient).resolves.toMatchObject({ value: 'access-1' });
    // A cached token is handed out whatever the deadline; a deadline already passed starts nothing.
    await expect(provider.get({ deadline: Date.now() - 1 })).resolves.toMatchObject({ value: 'access-1' });
    const cold = new TokenProvider({ authorityUrl: 'https://l', credentials: source(APP_ONLY), fetch });
    await expect(cold.get({ deadline: Date.now() - 1 })).rejects.toMatchObject({ unavailable: true });
    expect(answer).toBeDefined();
  });

  it('treats an unreachable Entra as unavailable', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    const error = await new TokenProvider({ authorityUrl: 'https://l', credentials: source(APP_ONLY), fetch })
      .get()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'CredentialsError', unavailable: true });
  });
});

describe('credentials', () => {
  it('hide their secrets from JSON, inspection and strings', async () => {
    const { inspect } = await import('node:util');
    const credentials = parseCredentials(APP_USER, 'v1');
    for (const shown of [JSON.stringify(credentials), inspect(credentials), String(credentials), `${credentials}`]) {
      expect(shown).not.toContain('super-secret-value');
      expect(shown).not.toContain('refresh-token-0');
    }
    expect(credentials.clientSecret).toBe('super-secret-value');
  });

  it('say which field is wrong without its value', () => {
    const error = (() => {
      try {
        parseCredentials(JSON.stringify({ tenantId: 't', clientSecret: 'super-secret-value' }), 'v1');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe('The Partner Center credentials are malformed: /clientId must be a string');
    expect(() => parseCredentials('{not json super-secret-value', 'v1')).toThrow('not valid JSON');
    expect(() => parseCredentials('{not json super-secret-value', 'v1')).not.toThrow(/super-secret/);
  });
});
