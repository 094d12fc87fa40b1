// A loopback stand-in for AWS Secrets Manager that speaks its JSON 1.1 protocol, so the real SDK client (with
// fake credentials and a custom endpoint) exercises the production code path without an AWS account.
// It keeps versions with staging labels as Secrets Manager does: PutSecretValue makes the new version AWSCURRENT
// and the old one AWSPREVIOUS, a ClientRequestToken names a version that can be created once, and DescribeSecret
// lists the labelled versions (VersionIdsToStages).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Version {
  id: string;
  value: string;
  stages: string[];
  created: Date;
}

export class FakeSecretsManager {
  readonly calls: { target: string; body: Record<string, unknown> }[] = [];
  private readonly secrets = new Map<string, Version[]>();
  private server: Server | undefined;
  /** When set, every call fails with this status and AWS error type. */
  failWith: { status: number; type: string } | undefined;
  /** Calls of a target (GetSecretValue…) held until this many are waiting (a race, made deterministic). */
  private readonly barriers = new Map<string, { count: number; waiting: (() => void)[] }>();

  put(secretId: string, value: string, created = new Date()): string {
    return this.store(secretId, value, randomUUID(), created);
  }

  versions(secretId: string): Version[] {
    return this.secrets.get(secretId) ?? [];
  }

  current(secretId: string): Version | undefined {
    return this.versions(secretId).find((v) => v.stages.includes('AWSCURRENT'));
  }

  holdReadsUntil(count: number): void {
    this.hold('GetSecretValue', count);
  }

  /** Holds calls of `target` until `count` of them are waiting, then answers them all. */
  hold(target: string, count: number): void {
    this.barriers.set(target, { count, waiting: [] });
  }

  count(target: string): number {
    return this.calls.filter((c) => c.target === target).length;
  }

  private store(secretId: string, value: string, id: string, created: Date): string {
    const versions = this.secrets.get(secretId) ?? [];
    for (const v of versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
    for (const v of versions) {
      if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    versions.push({ id, value, stages: ['AWSCURRENT'], created });
    this.secrets.set(secretId, versions);
    return id;
  }

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const target = String(request.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      this.calls.push({ target, body });
      const reply = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        response.end(JSON.stringify(payload));
      };
      if (this.failWith) return reply(this.failWith.status, { __type: this.failWith.type, message: 'injected' });
      const secretId = String(body.SecretId);
      const arn = `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${secretId}`;
      const barrier = this.barriers.get(target);
      if (barrier) {
        await new Promise<void>((resolve) => {
          barrier.waiting.push(resolve);
          if (barrier.waiting.length >= barrier.count) {
            this.barriers.delete(target);
            for (const release of barrier.waiting) release();
          }
        });
      }
      if (target === 'GetSecretValue') {
        const current = this.current(secretId);
        if (!current)
          return reply(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        return reply(200, {
          ARN: arn,
          Name: secretId,
          SecretString: current.value,
          VersionId: current.id,
          VersionStages: current.stages,
          CreatedDate: current.created.getTime() / 1000,
        });
      }
      if (target === 'DescribeSecret') {
        const versions = this.versions(secretId);
        if (versions.length === 0) return reply(400, { __type: 'ResourceNotFoundException', message: 'not found' });
        return reply(200, {
          ARN: arn,
          Name: secretId,
          VersionIdsToStages: Object.fromEntries(
            versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]),
          ),
        });
      }
      if (target === 'PutSecretValue') {
        if (!this.secrets.has(secretId))
          return reply(400, { __type: 'ResourceNotFoundException', message: 'not found' });
        const token = String(body.ClientRequestToken ?? randomUUID());
        const existing = this.versions(secretId).find((v) => v.id === token);
        if (existing) {
          // The same token and value is a no-op; the same token with another value is refused.
          if (existing.value === body.SecretString)
            return reply(200, { ARN: arn, Name: secretId, VersionId: token, VersionStages: existing.stages });
          return reply(400, {
            __type: 'ResourceExistsException',
            message: `A resource with the ID you requested already exists.`,
          });
        }
        this.store(secretId, String(body.SecretString), token, new Date());
        return reply(200, { ARN: arn, Name: secretId, VersionId: token, VersionStages: ['AWSCURRENT'] });
      }
      reply(400, { __type: 'InvalidRequestException', message: `unsupported ${target}` });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
