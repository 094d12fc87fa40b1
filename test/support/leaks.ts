// Suite 5 (leaks), shared by every reliability suite: collect every secret value a suite used (client secrets,
// refresh tokens, the access tokens Partner Center saw on the Authorization header), capture every log line and
// every response body, and assert that none of those texts holds any of those values — or anything shaped like a
// token (a JWT, a bearer credential that is not `[redacted]`, a simulator refresh token).
import type { PartnerCenterSimulator } from '../../local/simulator/index.js';
import { DEFAULT_SIMULATOR_CREDENTIALS } from '../../local/simulator/index.js';
import { captureLogs } from './logs.js';
import { report } from './reliability.js';
import type { FakeSecretsManager } from './secrets-manager.js';

/** Token shapes that must never appear, whatever their value. */
const SHAPES: [string, RegExp][] = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/],
  ['a bearer credential', /Bearer (?!\[redacted\])[A-Za-z0-9._~+/-]{8,}/],
  ['a simulator refresh token', /sim-refresh-token-\d+/],
];

export interface LeakScan {
  secrets: number;
  logLines: number;
  responses: number;
  leaks: string[];
}

const mask = (value: string) => `${value.slice(0, 3)}…(${value.length} chars)`;

export function leakWatch(suite: string) {
  const logs = captureLogs();
  const values = new Set<string>();
  const responses: string[] = [];

  const secret = (...candidates: (string | null | undefined)[]) => {
    // Short values would match by accident (and are not secrets anyone would use).
    for (const value of candidates) if (value && value.length >= 8) values.add(value);
  };
  secret(DEFAULT_SIMULATOR_CREDENTIALS.clientSecret, DEFAULT_SIMULATOR_CREDENTIALS.refreshToken);

  return {
    logs,
    /** The log lines written from now on (without clearing what the leak check must still scan). */
    mark() {
      const from = logs.lines().length;
      return () => logs.lines().slice(from);
    },
    secret,
    /** Every credential the simulator received: bearer tokens, and the client secret and refresh token of each grant. */
    fromSimulator(simulator: PartnerCenterSimulator) {
      for (const request of simulator.requests) {
        const auth = request.headers.authorization;
        if (auth) secret(auth.replace(/^Bearer\s+/i, ''));
        if (/\/oauth2\//.test(request.path)) {
          const form = new URLSearchParams(request.body);
          secret(form.get('client_secret'), form.get('refresh_token'));
        }
      }
    },
    /** Every client secret and refresh token ever stored in the Secrets Manager stand-in. */
    fromSecretsManager(fake: FakeSecretsManager, secretId = 'partner-center') {
      for (const version of fake.versions(secretId)) {
        try {
          const parsed = JSON.parse(version.value) as { clientSecret?: unknown; refreshToken?: unknown };
          secret(
            typeof parsed.clientSecret === 'string' ? parsed.clientSecret : undefined,
            typeof parsed.refreshToken === 'string' ? parsed.refreshToken : undefined,
          );
        } catch {
          secret(version.value);
        }
      }
    },
    /** A response body (or any other text a caller or producer sees: outcome events, invoke results). */
    response(body: unknown) {
      responses.push(typeof body === 'string' ? body : (JSON.stringify(body) ?? ''));
    },
    scan(): LeakScan {
      const logText = logs.text();
      const texts: [string, string][] = [
        ['logs', logText],
        ['responses', responses.join('\n')],
      ];
      const leaks: string[] = [];
      for (const [where, text] of texts) {
        for (const value of values) if (text.includes(value)) leaks.push(`${mask(value)} in ${where}`);
        for (const [what, shape] of SHAPES) {
          const found = shape.exec(text);
          if (found) leaks.push(`${what} (${mask(found[0])}) in ${where}`);
        }
      }
      return { secrets: values.size, logLines: logs.lines().length, responses: responses.length, leaks };
    },
    /** Scans, prints the figures, and returns the leaks (the caller asserts there are none). */
    check(): string[] {
      const scan = this.scan();
      report(`leaks.${suite}`, {
        'secret values watched': scan.secrets,
        'log lines scanned': scan.logLines,
        'responses scanned': scan.responses,
        leaks: scan.leaks.length,
      });
      return scan.leaks;
    },
  };
}

export type LeakWatch = ReturnType<typeof leakWatch>;
