// The policy files (policies/) and the in-process engine that evaluates them with cedar-wasm: what the local server,
// the tests and the CLI use. Never imported by a function: cedar-wasm is 4.2 MB (docs/authorization.md, "Where the
// decision is made"); in AWS the same files are evaluated by Amazon Verified Permissions (avp.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyUnavailableError } from '../errors.js';
import { type PolicyEngine, type PolicyRef, policyRef, type Verdict } from './engine.js';
import { type AuthorizationQuery, type EntityJson, POLICY_FIELDS } from './model.js';

/** The repository's policies/ folder. */
export const POLICY_DIR = new URL('../../../policies/', import.meta.url).pathname;

export interface PolicyFiles {
  /** `@id` → the policy's text, as Cedar and Verified Permissions take one policy. */
  policies: Record<string, string>;
  /** `@id` → the policy's reference (its `@field` and `@reason`). */
  refs: Record<string, PolicyRef>;
  /** `@id` → the file it is in. */
  files: Record<string, string>;
  /** The schema in Cedar's human-readable format. */
  schema: string;
  entities: EntityJson[];
}

/** A problem with the policy files, as `partner-orders policy check` lists them. */
export interface PolicyFileProblem {
  file: string;
  policy?: string;
  message: string;
}

export class PolicyFilesError extends Error {
  override readonly name = 'PolicyFilesError';
  constructor(readonly problems: PolicyFileProblem[]) {
    super(
      `policy files: ${problems.map((p) => `${p.file}${p.policy ? ` ${p.policy}` : ''}: ${p.message}`).join('; ')}`,
    );
  }
}

const cedarFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.cedar'))
        .sort()
        .map((name) => join(dir, name))
    : [];

const messages = (errors: { message: string }[]) => errors.map((e) => e.message).join('; ');

/**
 * The deployed policy set: `policies/*.cedar`, `policies/schema.cedarschema` and `policies/entities.json`. With
 * `local`, also `policies/local/*.cedar` (allow-all) and `policies/local/entities.json` (example members), which
 * override deployed entities of the same uid. Problems are collected, not thrown, for `policy check`.
 */
export function readPolicyFiles(options: { dir?: string; local?: boolean } = {}): {
  files: PolicyFiles;
  problems: PolicyFileProblem[];
} {
  const dir = options.dir ?? POLICY_DIR;
  const problems: PolicyFileProblem[] = [];
  const files: PolicyFiles = { policies: {}, refs: {}, files: {}, schema: '', entities: [] };
  const schemaFile = join(dir, 'schema.cedarschema');
  try {
    files.schema = readFileSync(schemaFile, 'utf8');
    const parsed = cedar.checkParseSchema(files.schema);
    if (parsed.type === 'failure') problems.push({ file: schemaFile, message: messages(parsed.errors) });
  } catch (error) {
    problems.push({ file: schemaFile, message: (error as Error).message });
  }
  const policyFiles = [...cedarFiles(dir), ...(options.local ? cedarFiles(join(dir, 'local')) : [])];
  if (policyFiles.length === 0) problems.push({ file: dir, message: 'no .cedar files' });
  addPolicies(
    files,
    policyFiles.map((file) => ({ file, text: readFileSync(file, 'utf8') })),
    problems,
  );
  const entityFiles = [join(dir, 'entities.json'), ...(options.local ? [join(dir, 'local', 'entities.json')] : [])];
  const byUid = new Map<string, EntityJson>();
  for (const file of entityFiles) {
    if (!existsSync(file)) {
      if (file === entityFiles[0]) problems.push({ file, message: 'missing' });
      continue;
    }
    try {
      const list = JSON.parse(readFileSync(file, 'utf8')) as EntityJson[];
      if (!Array.isArray(list)) throw new Error('must be a JSON array of entities');
      for (const entity of list) byUid.set(`${entity.uid?.type}::${entity.uid?.id}`, entity);
    } catch (error) {
      problems.push({ file, message: (error as Error).message });
    }
  }
  files.entities = [...byUid.values()];
  if (problems.length === 0) problems.push(...checkPolicyFiles(files, entityFiles.join(', ')));
  return { files, problems };
}

/** Policies from Cedar texts, each by its `@id` (with its `@field` and `@reason`); problems are collected. */
export function addPolicies(
  files: PolicyFiles,
  sources: { file: string; text: string }[],
  problems: PolicyFileProblem[],
): void {
  for (const { file, text: source } of sources) {
    const parts = cedar.policySetTextToParts(source);
    if (parts.type === 'failure') {
      problems.push({ file, message: messages(parts.errors) });
      continue;
    }
    if (parts.policy_templates.length > 0) problems.push({ file, message: 'policy templates are not used here' });
    for (const text of parts.policies) {
      const json = cedar.policyToJson(text);
      const annotations = json.type === 'success' ? (json.json.annotations ?? {}) : {};
      const id = annotations.id;
      if (!id) {
        const head = text.split('\n').find((l) => !l.startsWith('@'));
        problems.push({ file, message: `a policy has no @id annotation: ${head}` });
        continue;
      }
      if (files.policies[id] !== undefined) {
        problems.push({ file, policy: id, message: `@id is also used in ${files.files[id]}` });
        continue;
      }
      const field = annotations.field;
      if (field !== undefined && !(POLICY_FIELDS as readonly string[]).includes(field)) {
        problems.push({ file, policy: id, message: `@field("${field}") is not one of ${POLICY_FIELDS.join(', ')}` });
      }
      files.policies[id] = text;
      files.refs[id] = policyRef(id, annotations);
      files.files[id] = file;
    }
  }
}

/** The files as a policy set, or PolicyFilesError naming every problem. */
export function loadPolicyFiles(options: { dir?: string; local?: boolean } = {}): PolicyFiles {
  const { files, problems } = readPolicyFiles(options);
  if (problems.length > 0) throw new PolicyFilesError(problems);
  return files;
}

/** Strict validation of every policy against the schema, and of the entities against it. */
export function checkPolicyFiles(files: PolicyFiles, entitiesFile = 'entities.json'): PolicyFileProblem[] {
  const problems: PolicyFileProblem[] = [];
  const validation = cedar.validate({
    schema: files.schema,
    policies: { staticPolicies: files.policies },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') {
    problems.push({ file: 'policies', message: messages(validation.errors) });
  } else {
    for (const { policyId, error } of validation.validationErrors) {
      problems.push({ file: files.files[policyId] ?? 'policies', policy: policyId, message: error.message });
    }
  }
  const entities = cedar.checkParseEntities({ entities: files.entities as cedar.Entities, schema: files.schema });
  if (entities.type === 'failure') problems.push({ file: entitiesFile, message: messages(entities.errors) });
  return problems;
}

let preparsed = 0;

/** cedar-wasm in this process, over preparsed policies and schema. */
export class CedarEngine implements PolicyEngine {
  readonly name = 'cedar-wasm';
  readonly entities: readonly EntityJson[];
  private readonly policySetId: string;
  private readonly schemaName: string;

  constructor(private readonly files: PolicyFiles) {
    this.entities = files.entities;
    preparsed += 1;
    this.policySetId = `policies-${preparsed}`;
    this.schemaName = `schema-${preparsed}`;
    const policies = cedar.preparsePolicySet(this.policySetId, { staticPolicies: files.policies });
    if (policies.type === 'failure') throw new Error(`policies: ${messages(policies.errors)}`);
    const schema = cedar.preparseSchema(this.schemaName, files.schema);
    if (schema.type === 'failure') throw new Error(`schema: ${messages(schema.errors)}`);
  }

  async authorize(query: AuthorizationQuery): Promise<Verdict[]> {
    return query.requests.map((request) => {
      const answer = cedar.statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: request.context as unknown as cedar.Context,
        entities: query.entities as cedar.Entities,
        preparsedPolicySetId: this.policySetId,
        preparsedSchemaName: this.schemaName,
        validateRequest: true,
      });
      if (answer.type === 'failure') {
        throw new PolicyUnavailableError(`The purchase policy could not be evaluated: ${messages(answer.errors)}`);
      }
      const { decision, diagnostics } = answer.response;
      return {
        decision,
        policies: diagnostics.reason.map((id) => this.files.refs[id] ?? { id }),
        errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      };
    });
  }
}

/** The local server's policies: the deployed ones plus allow-all and the example members (policies/local/). */
export const localPolicyEngine = (dir?: string) =>
  new CedarEngine(loadPolicyFiles({ ...(dir ? { dir } : {}), local: true }));
