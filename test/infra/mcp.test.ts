// What the stack deploys for AI agents (docs/agents.md): the mcp function behind POST and GET /mcp (read scope: each
// tool call is judged by its own route's scope inside), with what the routes it dispatches to have together and no
// more, MCP_WRITES off unless `-c mcpWrites=true`; and the MCP SDK in its bundle only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/shared/routes.js';
import { deployedFunctions, entryOf, esbuildOptions } from '../../infra/bundling.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { FUNCTION_ACCESS } from '../../infra/stack.js';
import { actionsOf, bundleInputs, envOf, synth } from '../support/infra.js';

const { template } = synth();
const statementsOf = (name: string) => actionsOf(template, name);

describe('the MCP route, deployed', () => {
  it('serves POST and GET /mcp from the mcp function, on the read scope', () => {
    const mine = routes.filter((route) => route.function === 'mcp');
    expect(mine.map((route) => `${route.method} ${route.path}`)).toEqual(['POST /mcp', 'GET /mcp']);
    expect(mine.every((route) => route.scope === 'read')).toBe(true);
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(keys).toEqual(expect.arrayContaining(['POST /mcp', 'GET /mcp']));
  });

  it("has the purchase routes' access (table, tracking queue, policy store), never a secret write", () => {
    expect(FUNCTION_ACCESS.mcp).toEqual({ secret: 'read', idempotencyTable: true, trackingQueue: 'send' });
    const actions = statementsOf('mcp');
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'verifiedpermissions:IsAuthorized']),
    );
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
    expect(actions.some((action) => action.startsWith('events:'))).toBe(false);
    expect(envOf(template, 'mcp')).toHaveProperty('POLICY_STORE_ID');
    expect(envOf(template, 'mcp')).toHaveProperty('IDEMPOTENCY_TABLE_NAME');
  });

  it('lists no tool that buys unless the deployment says so (mcpWrites)', () => {
    expect(envOf(template, 'mcp')).toMatchObject({ MCP_WRITES: 'false' });
    const props = stackPropsFromContext((key) => (key === 'mcpWrites' ? 'true' : undefined));
    expect(props).toMatchObject({ mcpWrites: true });
    expect(envOf(synth(props).template, 'mcp')).toMatchObject({ MCP_WRITES: 'true' });
    for (const name of deployedFunctions.filter((name) => name !== 'mcp')) {
      expect(envOf(template, name), name).not.toHaveProperty('MCP_WRITES');
    }
    expect(() => stackPropsFromContext((key) => (key === 'mcpWrites' ? 'yes' : undefined))).toThrow(/mcpWrites/);
  });
});

describe('the MCP SDK', () => {
  it("is in the mcp function's bundle only", async () => {
    const sdk = (inputs: string[]) => inputs.some((input) => input.includes('@modelcontextprotocol'));
    const mcp = await bundleInputs('mcp');
    expect(sdk(mcp)).toBe(true);
    // It runs the routes' own handlers: the purchase path is in its bundle, not a second implementation.
    expect(mcp).toEqual(expect.arrayContaining(['functions/create-order/handler.ts', 'functions/shared/commands.ts']));
    for (const name of deployedFunctions.filter((name) => name !== 'mcp')) {
      expect(sdk(await bundleInputs(name)), name).toBe(false);
    }
  }, 120_000);
});

describe('the mcp bundle, as deployed', () => {
  it('lists its tools and dispatches a tool call to a route handler it loads on first use', async () => {
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'partner-orders-mcp-bundle-'));
    try {
      const file = join(dir, 'index.mjs');
      await build(esbuildOptions(entryOf('mcp'), file));
      const rpc = (method: string, params: unknown) => ({
        version: '2.0',
        routeKey: 'POST /mcp',
        rawPath: '/mcp',
        rawQueryString: '',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        requestContext: {
          accountId: 'test',
          apiId: 'test',
          domainName: 'test',
          domainPrefix: 'test',
          http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
          requestId: 'r',
          routeKey: 'POST /mcp',
          stage: '$default',
          time: '',
          timeEpoch: 0,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
        isBase64Encoded: false,
      });
      const script = `
        const { handler } = await import(${JSON.stringify(file)});
        const context = { functionName: 'mcp', awsRequestId: 'r', getRemainingTimeInMillis: () => 20000 };
        const list = await handler(${JSON.stringify(rpc('tools/list', {}))}, context);
        const call = await handler(${JSON.stringify(rpc('tools/call', { name: 'purchase_status', arguments: { idempotencyKey: 'mcp-x' } }))}, context);
        process.stdout.write(JSON.stringify({ list: JSON.parse(list.body), call: JSON.parse(call.body) }));`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            PARTNER_CENTER_SECRET_ID: 'unused',
            LOG_LEVEL: 'SILENT',
          },
        }).toString(),
      );
      expect(out.list.result.tools.map((tool: { name: string }) => tool.name)).toContain('quote_order');
      // The status route's own answer, from its own handler: no idempotency table here, so its 503 problem.
      const answer = JSON.parse(out.call.result.content[0].text);
      expect(out.call.result.isError).toBe(true);
      expect(answer).toMatchObject({ status: 503, body: { status: 503 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
