// `npm start`: the API on http://127.0.0.1:3000 (PORT), backed by the embedded Partner Center simulator, or by a
// real Partner Center when PARTNER_CENTER_URL, PARTNER_CENTER_AUTHORITY_URL and PARTNER_CENTER_CREDENTIALS are set.
// Idempotency records live in an in-process DynamoDB (dynalite) unless IDEMPOTENCY_TABLE_NAME names a real table.
// `POST /events` takes EventBridge entries for the event path; `GET /openapi.json` serves the API description.
// Only loopback (and ALLOWED_HOSTS) is answered; a real Partner Center also needs LOCAL_POLICY (docs/local.md).
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createIdempotencyTable, LOCAL_IDEMPOTENCY_TABLE, type LocalDynamoDB, startDynamoDB } from './dynamodb.js';
import { examples } from './examples.js';
import { parseAllowedHosts } from './host-guard.js';
import { chooseLocalPolicy, type LocalPolicy } from './policy-choice.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from './simulator/index.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
// Names answered besides loopback (local/host-guard.ts): the server refuses every other Host, and other sites' Origins.
// The HOST it listens on is one too, unless it is every interface.
const allowedHosts = [
  ...parseAllowedHosts(process.env.ALLOWED_HOSTS),
  ...(['0.0.0.0', '::', ''].includes(host) ? [] : parseAllowedHosts(host.includes(':') ? `[${host}]` : host)),
];

// Chosen before anything starts: allow-all only against the simulator, unless told to (local/policy-choice.ts).
let policyChoice: LocalPolicy;
try {
  policyChoice = chooseLocalPolicy(process.env, {
    simulator: !process.env.PARTNER_CENTER_URL,
    ...(process.env.PARTNER_CENTER_URL ? { url: process.env.PARTNER_CENTER_URL } : {}),
  });
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
// Idempotency records and the simulator's orders and carts survive a restart here (git-ignored); `npm run reset`
// empties it. LOCAL_STATE_DIR= (empty) keeps everything in memory, as the tests do.
const stateDir = process.env.LOCAL_STATE_DIR ?? '.local-state';
if (stateDir) mkdirSync(stateDir, { recursive: true });

let simulator: PartnerCenterSimulator | undefined;
if (!process.env.PARTNER_CENTER_URL) {
  // Purchases its catalog does not offer are refused, as Partner Center would (with PREFLIGHT on, they never get there).
  simulator = new PartnerCenterSimulator({
    latencyMs: Number(process.env.SIMULATOR_LATENCY_MS ?? 0),
    catalogChecks: true,
    // Orders are pending for a while, as in Partner Center (SIMULATOR_PROVISIONING_SECONDS; 0: completed at once).
    provisioningDelayMs: Number(process.env.SIMULATOR_PROVISIONING_SECONDS ?? 20) * 1000,
    ...(stateDir ? { statePath: join(stateDir, 'simulator.json') } : {}),
  });
  const url = await simulator.start(Number(process.env.SIMULATOR_PORT ?? 0));
  // The handlers read their configuration when they load, so the simulator's address is set before importing them.
  process.env.PARTNER_CENTER_URL = url;
  process.env.PARTNER_CENTER_AUTHORITY_URL = url;
  process.env.PARTNER_CENTER_CREDENTIALS = JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS);
} else if (!process.env.PARTNER_CENTER_CREDENTIALS && !process.env.PARTNER_CENTER_SECRET_ID) {
  console.error('PARTNER_CENTER_URL is set: also set PARTNER_CENTER_CREDENTIALS (JSON) or PARTNER_CENTER_SECRET_ID.');
  process.exit(2);
}

let dynamodb: LocalDynamoDB | undefined;
if (!process.env.IDEMPOTENCY_TABLE_NAME) {
  dynamodb = await startDynamoDB(
    Number(process.env.DYNAMODB_PORT ?? 0),
    stateDir ? join(stateDir, 'dynamodb') : undefined,
  );
  await createIdempotencyTable(dynamodb.client);
  process.env.IDEMPOTENCY_TABLE_NAME = LOCAL_IDEMPOTENCY_TABLE;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  // dynalite checks no credentials, but the SDK signs every request: keep real ones if present.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

const [
  { createLocalApp },
  { createDependencies },
  { PurchasePolicy },
  { CedarEngine, loadPolicyFiles, localPolicyEngine },
  { localTracking },
  { identityFrom },
  { readConfig },
] = await Promise.all([
  import('./app.js'),
  import('../functions/shared/dependencies.js'),
  import('../functions/shared/policy/check.js'),
  import('../functions/shared/policy/local.js'),
  import('./tracking.js'),
  import('../functions/shared/identity/http.js'),
  import('../functions/shared/config.js'),
]);
// Callers as a deployment identifies them: without an authorizer in front (AUTHORIZER unset), anonymous.
const config = readConfig();
const dependencies = { ...createDependencies(config), identity: identityFrom(config) };
// Provisioning tracking on an in-memory delay queue, polled by the real tracker (docs/after-purchase.md).
const tracking = localTracking(dependencies.partnerCenter, process.env.IDEMPOTENCY_TABLE_NAME);
// The purchase policy from policies/ and policies/local/ (allow-all, the guardrails, example members), or with
// LOCAL_POLICY=deployed from policies/ only, evaluated here with cedar-wasm; a deployed stack asks Verified
// Permissions (docs/authorization.md).
const engine = policyChoice === 'deployed' ? new CedarEngine(loadPolicyFiles()) : localPolicyEngine();
const server = createLocalApp(
  {
    ...dependencies,
    tracking: tracking.tracking,
    policy: new PurchasePolicy(engine),
  },
  { allowedHosts },
);

server.listen(port, host, () => {
  // The port actually bound (PORT=0 picks a free one); /openapi.json advertises the address it is reached at.
  const bound = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  const upstream = simulator
    ? `the embedded Partner Center simulator (${simulator.url})`
    : process.env.PARTNER_CENTER_URL;
  console.log(`partner-orders listening on ${base}, talking to ${upstream}, policy ${policyChoice}`);
  console.log(
    `idempotency records: ${dynamodb ? `in-process DynamoDB (${dynamodb.endpoint})` : process.env.IDEMPOTENCY_TABLE_NAME}`,
  );
  console.log(
    stateDir
      ? `local state kept in ${stateDir}/ across restarts (npm run reset empties it)\n`
      : 'local state in memory only (LOCAL_STATE_DIR is empty)\n',
  );
  for (const example of examples) console.log(`# ${example.title}\n${example.command(base)}\n`);
});

// Ctrl-C (SIGINT), SIGTERM (kill, npm forwarding it) and SIGHUP (the terminal closed): stop answering, close the
// simulator and dynalite (flushing its files), and exit, so no process is left serving. A second signal, or anything
// still hanging after 5 s, exits at once.
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`\n${signal}: stopping`);
  setTimeout(() => process.exit(1), 5_000).unref();
  tracking.stop();
  server.closeAllConnections();
  void Promise.allSettled([new Promise((resolve) => server.close(resolve)), simulator?.stop(), dynamodb?.stop()]).then(
    () => process.exit(0),
  );
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
// npm killed outright (SIGKILL: nothing to forward) leaves this process to init: stop rather than serve on, orphaned.
// process.ppid is read once at start-up, and a killed parent may linger as a zombie that still answers signal 0: on
// Linux the current parent is read from /proc instead (elsewhere this check does nothing).
const parentNow = () => {
  try {
    return Number(/^PPid:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.ppid);
  } catch {
    return process.ppid;
  }
};
const parent = parentNow();
setInterval(() => {
  if (parentNow() !== parent) stop('SIGHUP');
}, 1_000).unref();
