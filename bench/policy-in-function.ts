// The alternative the issue allows, built only to be measured (bench/policy.ts): the create-order function deciding in
// its own process with cedar-wasm instead of asking Verified Permissions. The policy files are inlined at bundling
// (esbuild's text loader), as a function reading them from SSM or S3 at init would hold them; the 4.2 MB .wasm is
// copied next to the bundle. Never deployed.
import { createHandler } from '../functions/create-order/handler.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import { iamIdentity } from '../functions/shared/identity/http.js';
import { PurchasePolicy } from '../functions/shared/policy/check.js';
import {
  addPolicies,
  CedarEngine,
  type PolicyFileProblem,
  type PolicyFiles,
} from '../functions/shared/policy/local.js';
import type { EntityJson } from '../functions/shared/policy/model.js';
import entities from '../policies/entities.json' with { type: 'json' };
import guardrails from '../policies/guardrails.cedar';
import allowAll from '../policies/local/allow-all.cedar';
import permits from '../policies/permits.cedar';
import schema from '../policies/schema.cedarschema';

const files: PolicyFiles = { policies: {}, refs: {}, files: {}, schema, entities: entities as EntityJson[] };
const problems: PolicyFileProblem[] = [];
addPolicies(
  files,
  [
    { file: 'guardrails.cedar', text: guardrails },
    { file: 'permits.cedar', text: permits },
    // The benchmark's requests come without an authorizer, as in bench/verified-permissions.ts.
    { file: 'local/allow-all.cedar', text: allowAll },
  ],
  problems,
);
if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));

export const handler = createHandler({
  ...createDependencies(),
  identity: iamIdentity,
  policy: new PurchasePolicy(new CedarEngine(files)),
});
