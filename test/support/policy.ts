// Purchase policies for tests, from the repository's own files (policies/), evaluated in the process by cedar-wasm as
// the local server does. Suites about something else run under ALLOW_ALL; the policy's own suites pick a set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { CedarEngine, loadPolicyFiles, POLICY_DIR, type PolicyFiles } from '../../functions/shared/policy/local.js';

const schema = () => readFileSync(join(POLICY_DIR, 'schema.cedarschema'), 'utf8');

/** Cedar files of a test's own, with the repository's schema and (unless given) its deployed entities. */
export function policyFiles(policies: Record<string, string>, entities = loadPolicyFiles().entities): PolicyFiles {
  const refs = Object.fromEntries(Object.keys(policies).map((id) => [id, { id }]));
  const files = Object.fromEntries(Object.keys(policies).map((id) => [id, 'test']));
  return { policies, refs, files, schema: schema(), entities };
}

/** Every caller may buy anything: for suites about validation, idempotency, the upstream… */
export const ALLOW_ALL_POLICY = new PurchasePolicy(
  new CedarEngine(policyFiles({ 'test-allow-all': 'permit (principal, action, resource);' }, [])),
);

/** As deployed: policies/*.cedar and policies/entities.json (default deny: nobody is in a group yet). */
export const deployedPolicy = (dir?: string) =>
  new PurchasePolicy(new CedarEngine(loadPolicyFiles(dir ? { dir } : {})));

/** As the local server runs: the deployed policies plus policies/local/ (allow-all, example members). */
export const localPolicy = (dir?: string) =>
  new PurchasePolicy(new CedarEngine(loadPolicyFiles({ ...(dir ? { dir } : {}), local: true })));
