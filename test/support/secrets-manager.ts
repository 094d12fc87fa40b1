// A loopback stand-in for AWS Secrets Manager that speaks its JSON 1.1 protocol, so the real SDK client (with
// fake credentials and a custom endpoint) exercises the production code path without an AWS account.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Version {
  id: string;
  value: string;
  stages: string[];
}

export class FakeSecretsManager {
  readonly calls: { target: string; body: Record<string, unknown> }[] = [];
  private readonly secrets = new Map<string, Version[]>();
  private server: Server | undefined;
  /** When set, every call fails with this status and AWS error type. */
  failWith: { status: number; type: string } | undefined;

  put(secretId: string, value: string): string {
    const versions = this.secrets.get(secretId) ?? [];
    for (const v of versions) v.stages = v.stages.filter((s) => s !== 'AWSCURRENT');
    const id = randomUUID();
    versions.push({ id, value, stages: ['AWSCURRENT'] });
    this.secrets.set(secretId, versions);
    return id;
  }

  count(target: string): number {
    return this.calls.filter((c) => c.target === target).length;
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
      const current = this.secrets.get(secretId)?.find((v) => v.stages.includes('AWSCURRENT'));
      if (target === 'GetSecretValue') {
        if (!current)
          return reply(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        return reply(200, {
          ARN: `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${secretId}`,
          Name: secretId,
          SecretString: current.value,
          VersionId: current.id,
          VersionStages: current.stages,
          CreatedDate: Date.now() / 1000,
        });
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
