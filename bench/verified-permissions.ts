// Amazon Verified Permissions for the benchmarks: the loopback stand-in (test/support/verified-permissions.ts) in a
// process of its own, holding a policy store made from policies/ and policies/local/ (allow-all plus the guardrails:
// the benchmarks' requests come without an authorizer). Verified Permissions is another service, so its evaluation
// must not run on the handler's thread. `startVerifiedPermissions()` forks it and sets what the SDK client reads
// (AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS, a region, fake credentials); functions then find it through POLICY_STORE_ID
// as they do in AWS.
import { fork } from 'node:child_process';
import { loadPolicyFiles } from '../functions/shared/policy/local.js';
import { FakeVerifiedPermissions } from '../test/support/verified-permissions.js';

const CHILD_MARK = 'PARTNER_ORDERS_BENCH_AVP_CHILD';

export interface RunningVerifiedPermissions {
  url: string;
  policyStoreId: string;
  /** The environment a function needs to ask it (merge into readConfig's and process.env). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startVerifiedPermissions(): Promise<RunningVerifiedPermissions> {
  if (process.env[CHILD_MARK]) throw new Error('the stand-in does not start stand-ins');
  const child = fork(new URL(import.meta.url).pathname, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [CHILD_MARK]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url, policyStoreId } = await new Promise<{ url: string; policyStoreId: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the Verified Permissions stand-in did not start in 20 s')),
      20_000,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as { url: string; policyStoreId: string });
    });
    child.once('exit', (code) => reject(new Error(`the Verified Permissions stand-in exited (${code})`)));
  });
  const env = {
    POLICY_STORE_ID: policyStoreId,
    AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS: url,
    AWS_REGION: process.env.AWS_REGION ?? 'eu-west-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
  };
  Object.assign(process.env, env);
  return {
    url,
    policyStoreId,
    env,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

if (process.argv.includes('--serve') && process.env[CHILD_MARK] && process.send) {
  const fake = new FakeVerifiedPermissions(loadPolicyFiles({ local: true }));
  const url = await fake.start();
  process.send({ url, policyStoreId: fake.policyStoreId });
  process.on('disconnect', () => process.exit(0));
}
