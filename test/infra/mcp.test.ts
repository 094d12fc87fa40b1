// What the stack deploys for AI agents (docs/agents.md): the mcp function behind POST and GET /mcp (read scope: each
// tool call is judged by its own route's scope inside), with what the routes it dispatches to have together and no
// more, MCP_WRITES off unless `-c mcpWrites=true`; and the MCP SDK in its bundle only.
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/shared/routes.js';
import { bundling, deployedFunctions, entryOf } from '../../infra/bundling.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { FUNCTION_ACCESS } from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { template } = synth();
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const functionsOf = (t: typeof template) => t.findResources('AWS::Lambda::Function');
const functionId = (t: typeof template, name: string) =>
  Object.keys(functionsOf(t)).find((id) => id.startsWith(pascal(name)) && !id.includes('Role')) as string;
const envOf = (t: typeof template, name: string) =>
  functionsOf(t)[functionId(t, name)]?.Properties.Environment.Variables;
const roleOf = (name: string) => functionsOf(template)[functionId(template, name)]?.Properties.Role['Fn::GetAtt'][0];
const statementsOf = (name: string) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleOf(name)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
    .flatMap((statement) => [statement.Action].flat());

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
    const { build } = await import('esbuild');
    const inputsOf = async (name: string) => {
      const result = await build({
        entryPoints: [entryOf(name)],
        bundle: true,
        write: false,
        metafile: true,
        platform: bundling.platform,
        format: bundling.format,
        target: bundling.target,
        mainFields: [...bundling.mainFields],
        logLevel: 'silent',
      });
      return Object.keys(result.metafile.inputs);
    };
    const sdk = (inputs: string[]) => inputs.some((input) => input.includes('@modelcontextprotocol'));
    const mcp = await inputsOf('mcp');
    expect(sdk(mcp)).toBe(true);
    // It runs the routes' own handlers: the purchase path is in its bundle, not a second implementation.
    expect(mcp).toEqual(expect.arrayContaining(['functions/create-order/handler.ts', 'functions/shared/commands.ts']));
    for (const name of deployedFunctions.filter((name) => name !== 'mcp')) {
      expect(sdk(await inputsOf(name)), name).toBe(false);
    }
  }, 120_000);
});
