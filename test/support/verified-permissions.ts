// A loopback stand-in for Amazon Verified Permissions that speaks its JSON 1.0 protocol, so the real SDK client (with
// fake credentials and a custom endpoint) exercises the deployed code path without an AWS account. It holds one
// policy store made from policy files, as the stack makes it (one policy per statement, each under an id of the
// service's own, the `@id` only in the statement), and answers BatchIsAuthorized, IsAuthorized and BatchGetPolicy by
// evaluating with cedar-wasm. It checks what the service checks of a batch (at most 30 requests, one principal or
// one resource for all) and records every call, so tests can read the requests as they went over the wire.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyFiles } from '../../functions/shared/policy/local.js';

interface Identifier {
  entityType?: string;
  entityId?: string;
}
interface WireRequest {
  principal?: Identifier;
  action?: { actionType?: string; actionId?: string };
  resource?: Identifier;
  context?: { cedarJson?: string; contextMap?: unknown };
}

/** A Verified Permissions policy id: 22 letters and digits. */
const policyId = () =>
  randomBytes(32)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 22);

export class FakeVerifiedPermissions {
  readonly policyStoreId = policyId();
  readonly calls: { target: string; body: Record<string, unknown> }[] = [];
  /** `@id` → the id the store gave the policy. */
  readonly ids = new Map<string, string>();
  /** When set, every call fails with this status and AWS error type. */
  failWith: { status: number; type: string } | undefined;
  /** When set, calls are answered only after this many milliseconds. */
  delayMs = 0;
  private readonly statements = new Map<string, string>();
  private server: Server | undefined;

  constructor(files: PolicyFiles) {
    for (const [id, text] of Object.entries(files.policies)) {
      const storeId = policyId();
      this.ids.set(id, storeId);
      this.statements.set(storeId, text);
    }
    const parsed = cedar.preparsePolicySet(`fake-avp-${this.policyStoreId}`, {
      staticPolicies: Object.fromEntries(this.statements),
    });
    if (parsed.type === 'failure') throw new Error(parsed.errors.map((e) => e.message).join('; '));
    // The policy store's schema: Verified Permissions knows the actions and their groups (`action in
    // Action::"Purchase"`) from it.
    const schema = cedar.preparseSchema(`fake-avp-schema-${this.policyStoreId}`, files.schema);
    if (schema.type === 'failure') throw new Error(schema.errors.map((e) => e.message).join('; '));
  }

  count(target: string): number {
    return this.calls.filter((c) => c.target === target).length;
  }

  private evaluate(request: WireRequest, entities: unknown) {
    if (!request.context?.cedarJson) throw new Error('context must be cedarJson here');
    const answer = cedar.statefulIsAuthorized({
      principal: { type: request.principal?.entityType ?? '', id: request.principal?.entityId ?? '' },
      action: { type: request.action?.actionType ?? '', id: request.action?.actionId ?? '' },
      resource: { type: request.resource?.entityType ?? '', id: request.resource?.entityId ?? '' },
      context: JSON.parse(request.context.cedarJson),
      entities: entities as cedar.Entities,
      preparsedPolicySetId: `fake-avp-${this.policyStoreId}`,
      preparsedSchemaName: `fake-avp-schema-${this.policyStoreId}`,
    });
    if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
    return {
      request,
      decision: answer.response.decision === 'allow' ? 'ALLOW' : 'DENY',
      determiningPolicies: answer.response.diagnostics.reason.map((id) => ({ policyId: id })),
      errors: answer.response.diagnostics.errors.map((e) => ({ errorDescription: e.error.message })),
    };
  }

  private answer(target: string, body: Record<string, unknown>): { status: number; payload: unknown } {
    if (body.policyStoreId !== undefined && body.policyStoreId !== this.policyStoreId) {
      return { status: 400, payload: { __type: 'ResourceNotFoundException', message: 'no such policy store' } };
    }
    const entities = () => {
      const given = body.entities as { cedarJson?: string } | undefined;
      return given?.cedarJson ? JSON.parse(given.cedarJson) : [];
    };
    if (target === 'BatchIsAuthorized') {
      const requests = (body.requests ?? []) as WireRequest[];
      const same = (pick: (r: WireRequest) => Identifier | undefined) =>
        new Set(requests.map((r) => `${pick(r)?.entityType}|${pick(r)?.entityId}`)).size === 1;
      if (requests.length < 1 || requests.length > 30) {
        return { status: 400, payload: { __type: 'ValidationException', message: 'requests: 1 to 30' } };
      }
      if (!same((r) => r.principal) && !same((r) => r.resource)) {
        return {
          status: 400,
          payload: { __type: 'ValidationException', message: 'the principal or the resource must be the same' },
        };
      }
      const list = entities();
      return { status: 200, payload: { results: requests.map((r) => this.evaluate(r, list)) } };
    }
    if (target === 'IsAuthorized') {
      const { request: _, ...result } = this.evaluate(body as WireRequest, entities());
      return { status: 200, payload: result };
    }
    if (target === 'BatchGetPolicy') {
      const requests = (body.requests ?? []) as { policyStoreId?: string; policyId?: string }[];
      const results = requests
        .filter((r) => r.policyStoreId === this.policyStoreId && this.statements.has(r.policyId ?? ''))
        .map((r) => ({
          policyStoreId: r.policyStoreId,
          policyId: r.policyId,
          policyType: 'STATIC',
          definition: { static: { statement: this.statements.get(r.policyId ?? '') } },
        }));
      return { status: 200, payload: { results, errors: [] } };
    }
    return { status: 400, payload: { __type: 'UnknownOperationException', message: target } };
  }

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const target = String(request.headers['x-amz-target'] ?? '').replace('VerifiedPermissions.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      this.calls.push({ target, body });
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const reply = (status: number, payload: unknown) => {
        if (response.destroyed) return;
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify(payload));
      };
      if (this.failWith) return reply(this.failWith.status, { __type: this.failWith.type, message: 'injected' });
      try {
        const { status, payload } = this.answer(target, body);
        reply(status, payload);
      } catch (error) {
        reply(400, { __type: 'ValidationException', message: (error as Error).message });
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
