// `partner-orders mcp` driven by the MCP SDK's own client over stdio, as an agent's MCP client launches it, against
// the local stack: the tools it lists, quote then place once, the replay of a second place, the refusals of a place
// without the identical quote, read-only by default, and a policy denial as a tool error carrying the problem.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { createMcpServer, QUOTE_TTL_MS } from '../../cli/mcp.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { CedarEngine } from '../../functions/shared/policy/local.js';
import { AUDIENCE, SCOPES, startTokenIssuer, type TokenIssuer } from '../support/jwt.js';
import { captureLogs } from '../support/logs.js';
import { policyFiles } from '../support/policy.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const order = { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5 }] };
const ROOT = join(import.meta.dirname, '..', '..');

/** A client connected to a fresh `partner-orders mcp` process. */
async function connect(endpoint: string, args: string[] = [], env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'mcp', '--endpoint', endpoint, ...args],
    cwd: ROOT,
    // Not the test's environment: no AWS credentials, no PARTNER_ORDERS_* left over.
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'mcp-test', version: '1' });
  await client.connect(transport);
  return client;
}

interface ToolAnswer {
  isError: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the tools answer JSON of every shape
  json: any;
}

async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text: string }[];
  };
  const text = result.content.map((part) => part.text).join('');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { isError: result.isError === true, json };
}

const READ_TOOLS = [
  'get_subscription',
  'list_orders',
  'list_subscriptions',
  'order_status',
  'purchase_status',
  'quote_cart',
  'quote_order',
  'quote_subscription_change',
  'search_catalog',
];

describe('partner-orders mcp (stdio, SDK client)', () => {
  let stack: Stack;
  let buyer: Client;
  let reader: Client;

  beforeAll(async () => {
    stack = await startStack({ idempotency: {} });
    [buyer, reader] = await Promise.all([connect(stack.url, ['--allow-purchases']), connect(stack.url)]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([buyer?.close(), reader?.close()]);
    await stack?.stop();
  });

  it('lists the tools, the place tools only with writes on', async () => {
    const names = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name).sort();
    expect(await names(reader)).toEqual(READ_TOOLS);
    expect(await names(buyer)).toEqual(
      [...READ_TOOLS, 'place_cart', 'place_order', 'place_subscription_change'].sort(),
    );
    const tools = (await buyer.listTools()).tools;
    const quoteOrder = tools.find((tool) => tool.name === 'quote_order');
    // The input schema is the API's own CreateOrderRequest, as JSON Schema.
    expect(quoteOrder?.inputSchema).toMatchObject({
      properties: { customerId: { type: 'string' }, order: { properties: { lineItems: { type: 'array' } } } },
    });
    expect(quoteOrder?.description).toMatch(/before place_order/);
    expect(tools.find((tool) => tool.name === 'place_order')?.description).toMatch(/unknown.*same quoteId/s);
  });

  it('quotes, places once, and a second place with the same quote replays the first answer', async () => {
    const sentBefore = stack.simulator.requests.length;
    const ordersBefore = stack.simulator.ledger.orders.length;
    const quote = await callTool(buyer, 'quote_order', { customerId: CUSTOMER, order });
    expect(quote.isError).toBe(false);
    expect(quote.json).toMatchObject({ status: 200, quoteId: expect.any(String), body: { dryRun: true } });
    expect(quote.json.idempotencyKey).toBe(`mcp-${quote.json.quoteId}`);
    // The dry run buys nothing: no write reached Partner Center.
    expect(stack.simulator.requests.slice(sentBefore).filter((sent) => sent.method !== 'GET')).toEqual([]);

    const placed = await callTool(buyer, 'place_order', { quoteId: quote.json.quoteId, customerId: CUSTOMER, order });
    expect(placed.isError).toBe(false);
    expect(placed.json).toMatchObject({ status: 201, idempotencyKey: `mcp-${quote.json.quoteId}` });
    expect(placed.json.idempotentReplayed).toBeUndefined();
    const orderId = placed.json.body.id;
    expect(orderId).toEqual(expect.any(String));

    const again = await callTool(buyer, 'place_order', { quoteId: quote.json.quoteId, customerId: CUSTOMER, order });
    expect(again.isError).toBe(false);
    expect(again.json).toMatchObject({ status: 201, idempotentReplayed: true, body: { id: orderId } });
    expect(stack.simulator.ledger.orders.length - ordersBefore).toBe(1);

    const status = await callTool(buyer, 'purchase_status', { idempotencyKey: `mcp-${quote.json.quoteId}` });
    expect(status.isError).toBe(false);
    expect(JSON.stringify(status.json.body)).toContain(orderId);

    const listed = await callTool(reader, 'list_orders', { customerId: CUSTOMER });
    expect(listed.isError).toBe(false);
    expect(JSON.stringify(listed.json.body)).toContain(orderId);
    const one = await callTool(reader, 'order_status', { customerId: CUSTOMER, orderId });
    expect(one.json).toMatchObject({ status: 200, body: { id: orderId } });
  });

  it('refuses a place without a quote, with an unknown quote, or for a request other than the quoted one', async () => {
    const orders = () => stack.simulator.ledger.orders.length;
    const before = orders();
    const unknown = await callTool(buyer, 'place_order', {
      quoteId: '00000000-0000-4000-8000-000000000000',
      customerId: CUSTOMER,
      order,
    });
    expect(unknown).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /call quote_order first/ } });

    const missing = await callTool(buyer, 'place_order', { customerId: CUSTOMER, order });
    expect(missing.isError).toBe(true);

    const quote = await callTool(buyer, 'quote_order', { customerId: CUSTOMER, order });
    const more = { lineItems: [{ ...order.lineItems[0], quantity: 50 }] };
    const other = await callTool(buyer, 'place_order', {
      quoteId: quote.json.quoteId,
      customerId: CUSTOMER,
      order: more,
    });
    expect(other).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /differs from what quote/ } });

    // A quote is for one kind of purchase: an order's quote does not place a cart.
    const cart = { lineItems: [{ catalogItemId: order.lineItems[0]?.offerId, quantity: 5, billingCycle: 'monthly' }] };
    const crossed = await callTool(buyer, 'place_cart', { quoteId: quote.json.quoteId, customerId: CUSTOMER, cart });
    expect(crossed).toMatchObject({ isError: true, json: { status: 'not-sent' } });
    expect(orders()).toBe(before);
  });

  it('answers an invalid request as a tool error before anything is sent', async () => {
    const bad = await callTool(buyer, 'quote_order', { customerId: 'not-a-guid', order });
    expect(bad.isError).toBe(true);
  });

  it('quotes and places a cart', async () => {
    const cart = {
      lineItems: [{ catalogItemId: order.lineItems[0]?.offerId, quantity: 3, billingCycle: 'monthly' }],
      checkout: true,
    };
    const quote = await callTool(buyer, 'quote_cart', { customerId: CUSTOMER, cart });
    expect(quote).toMatchObject({ isError: false, json: { quoteId: expect.any(String) } });
    const placed = await callTool(buyer, 'place_cart', { quoteId: quote.json.quoteId, customerId: CUSTOMER, cart });
    expect(placed).toMatchObject({ isError: false, json: { status: 201 } });
    const again = await callTool(buyer, 'place_cart', { quoteId: quote.json.quoteId, customerId: CUSTOMER, cart });
    expect(again).toMatchObject({ isError: false, json: { idempotentReplayed: true } });
  });

  it('tells the model what to say on an unknown outcome, and the retry with the same quote buys once', async () => {
    const before = stack.simulator.ledger.orders.length;
    const quote = await callTool(buyer, 'quote_order', { customerId: CUSTOMER, order });
    stack.simulator.injectFault({ kind: 'unavailable', match: { method: 'POST', path: '/checkout' } });
    const lost = await callTool(buyer, 'place_order', { quoteId: quote.json.quoteId, customerId: CUSTOMER, order });
    stack.simulator.clearFaults();
    expect(lost).toMatchObject({ isError: true, json: { status: 502, whatToDo: /same quoteId/ } });
    expect(lost.json.body.type).toBe('urn:partner-orders:problem:outcome-unknown');
    const retried = await callTool(buyer, 'place_order', { quoteId: quote.json.quoteId, customerId: CUSTOMER, order });
    expect(retried).toMatchObject({ isError: false, json: { status: 201 } });
    expect(stack.simulator.ledger.orders.length - before).toBe(1);
  });

  it('refuses a quote older than its lifetime, but a placed quote keeps replaying after it (fake clock)', async () => {
    let now = Date.now();
    const server = createMcpServer({ endpoint: new URL(stack.url), writes: true, now: () => now });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'mcp-clock-test', version: '1' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const stale = await callTool(client, 'quote_order', { customerId: CUSTOMER, order });
      const fresh = await callTool(client, 'quote_order', { customerId: CUSTOMER, order });
      const placed = await callTool(client, 'place_order', {
        quoteId: fresh.json.quoteId,
        customerId: CUSTOMER,
        order,
      });
      expect(placed.json.status).toBe(201);
      now += QUOTE_TTL_MS + 1;
      const late = await callTool(client, 'place_order', { quoteId: stale.json.quoteId, customerId: CUSTOMER, order });
      expect(late).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /older than 10 minutes/ } });
      const retried = await callTool(client, 'place_order', {
        quoteId: fresh.json.quoteId,
        customerId: CUSTOMER,
        order,
      });
      expect(retried.json).toMatchObject({ status: 201, idempotentReplayed: true, body: { id: placed.json.body.id } });
    } finally {
      await client.close();
    }
  });

  it('turns writes on with PARTNER_ORDERS_MCP_WRITES=true too', async () => {
    const client = await connect(stack.url, [], { PARTNER_ORDERS_MCP_WRITES: 'true' });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('place_order');
    } finally {
      await client.close();
    }
  });
});

describe('partner-orders mcp under a policy that lets nobody buy', () => {
  let stack: Stack;
  let buyer: Client;

  beforeAll(async () => {
    const engine = new CedarEngine(
      policyFiles(
        {
          'test-permit-all': 'permit (principal, action, resource);',
          'agents-buy-nothing':
            '@id("agents-buy-nothing")\n@reason("this agent may not buy")\n' +
            'forbid (principal, action in PartnerOrders::Action::"Purchase", resource);',
        },
        [],
      ),
    );
    stack = await startStack({ idempotency: {}, policy: new PurchasePolicy(engine) });
    buyer = await connect(stack.url, ['--allow-purchases']);
  }, 30_000);

  afterAll(async () => {
    await buyer?.close();
    await stack?.stop();
  });

  it('answers the quote with a tool error carrying the problem, and gives no quote to place', async () => {
    const quote = await callTool(buyer, 'quote_order', { customerId: CUSTOMER, order });
    expect(quote.isError).toBe(true);
    expect(quote.json).toMatchObject({ status: 403, body: { status: 403, type: expect.stringMatching(/policy/) } });
    expect(quote.json.quoteId).toBeUndefined();
    expect(JSON.stringify(quote.json.body)).toContain('agents-buy-nothing');
  });
});

/** Cedar in process: everything allowed, except more than 10 seats a request for the agents group, `agent` in it. */
const agentsPolicy = (agent: string) =>
  new CedarEngine(
    policyFiles(
      {
        'test-permit-all': 'permit (principal, action, resource);',
        'agents-max-10-seats':
          '@id("agents-max-10-seats")\n@field("totalSeats")\n@reason("an agent may buy at most 10 seats")\n' +
          'forbid (principal in PartnerOrders::Group::"agents", action in PartnerOrders::Action::"Purchase", resource)\n' +
          'when { context.totalSeats > 10 };',
      },
      [
        { uid: { type: 'PartnerOrders::Group', id: 'agents' }, attrs: {}, parents: [] },
        {
          uid: { type: 'PartnerOrders::User', id: agent },
          attrs: {},
          parents: [{ type: 'PartnerOrders::Group', id: 'agents' }],
        },
      ],
    ),
  );

describe('partner-orders mcp as a principal of its own (JWT authorizer, PARTNER_ORDERS_TOKEN)', () => {
  const logs = captureLogs();
  let issuer: TokenIssuer;
  let stack: Stack;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    // The agent's JWT subject is in the agents group, whose guardrail allows at most 10 seats a request.
    const agent = `${issuer.url}|purchasing-agent`;
    const engine = agentsPolicy(agent);
    stack = await startStack({
      idempotency: {},
      policy: new PurchasePolicy(engine),
      env: { AUTHORIZER: 'jwt', JWT_ISSUER: issuer.url, JWT_AUDIENCE: AUDIENCE },
    });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await issuer?.stop();
  });

  it('is judged as its JWT subject: its own guardrail refuses what another caller may buy', async () => {
    const scope = `${SCOPES.purchase} ${SCOPES.read}`;
    const token = issuer.token({ sub: 'purchasing-agent', scope });
    const agent = await connect(stack.url, ['--allow-purchases'], { PARTNER_ORDERS_TOKEN: token });
    const person = await connect(stack.url, ['--allow-purchases'], {
      PARTNER_ORDERS_TOKEN: issuer.token({ sub: 'alice', scope }),
    });
    const anonymous = await connect(stack.url, ['--allow-purchases']);
    try {
      const big = { lineItems: [{ ...order.lineItems[0], quantity: 20 }] };
      const refused = await callTool(agent, 'quote_order', { customerId: CUSTOMER, order: big });
      expect(refused).toMatchObject({ isError: true, json: { status: 403 } });
      expect(refused.json.body.policy?.principal ?? JSON.stringify(refused.json.body)).toContain('purchasing-agent');
      expect(JSON.stringify(refused.json.body)).toContain('agents-max-10-seats');

      const small = await callTool(agent, 'quote_order', { customerId: CUSTOMER, order });
      expect(small).toMatchObject({ isError: false, json: { body: { authorization: { decision: 'allow' } } } });
      expect(small.json.body.authorization.principal).toContain('purchasing-agent');

      // The audit trail names the agent's principal, a quote as a dry run; the token is in no log line.
      const audits = logs
        .lines()
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .filter((line) => line.audit === 'purchase-policy' && String(line.principal).includes('purchasing-agent'));
      expect(audits).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ decision: 'deny', dryRun: true, policies: ['agents-max-10-seats'] }),
          expect.objectContaining({ decision: 'allow', dryRun: true }),
        ]),
      );
      expect(logs.text()).not.toContain(token.split('.')[2]);

      expect(await callTool(person, 'quote_order', { customerId: CUSTOMER, order: big })).toMatchObject({
        isError: false,
      });
      // No token, no caller: the API refuses before anything is judged.
      expect(await callTool(anonymous, 'quote_order', { customerId: CUSTOMER, order })).toMatchObject({
        isError: true,
        json: { status: 401 },
      });
    } finally {
      await Promise.all([agent.close(), person.close(), anonymous.close()]);
    }
  });
});

describe('POST /mcp as a principal of its own (JWT authorizer, the token verified by the route)', () => {
  const logs = captureLogs();
  let issuer: TokenIssuer;
  let stack: Stack;
  const agent = (token?: string) => {
    const client = new Client({ name: 'mcp-http-jwt-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`), {
      ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
    });
    return { client, connected: client.connect(transport) };
  };

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    const principal = `${issuer.url}|purchasing-agent`;
    const engine = agentsPolicy(principal);
    stack = await startStack({
      idempotency: {},
      policy: new PurchasePolicy(engine),
      env: { AUTHORIZER: 'jwt', JWT_ISSUER: issuer.url, JWT_AUDIENCE: AUDIENCE },
      mcp: { writes: true },
    });
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    await issuer?.stop();
  });

  it("judges each tool call as the token's subject, with each route's own scope; quotes are the principal's own", async () => {
    const scope = `${SCOPES.purchase} ${SCOPES.read}`;
    const token = issuer.token({ sub: 'purchasing-agent', scope });
    const buyer = agent(token);
    const person = agent(issuer.token({ sub: 'alice', scope }));
    const reader = agent(issuer.token({ sub: 'purchasing-agent', scope: SCOPES.read }));
    await Promise.all([buyer.connected, person.connected, reader.connected]);
    // From here one request at a time, as one Lambda container serves them (the connections above overlapped on the
    // local server, whose one process shares the invocation's log keys between requests in flight).
    const from = logs.lines().length;
    try {
      const big = { lineItems: [{ ...order.lineItems[0], quantity: 20 }] };
      const refused = await callTool(buyer.client, 'quote_order', { customerId: CUSTOMER, order: big });
      expect(refused).toMatchObject({ isError: true, json: { status: 403 } });
      expect(JSON.stringify(refused.json.body)).toContain('agents-max-10-seats');

      const quote = await callTool(buyer.client, 'quote_order', { customerId: CUSTOMER, order });
      expect(quote).toMatchObject({ isError: false, json: { body: { authorization: { decision: 'allow' } } } });
      expect(quote.json.body.authorization.principal).toContain('purchasing-agent');

      // Another principal cannot place the agent's quote, even with the identical request.
      const args = { quoteId: quote.json.quoteId, customerId: CUSTOMER, order };
      const stolen = await callTool(person.client, 'place_order', args);
      expect(stolen).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /call quote_order first/ } });

      const before = stack.simulator.ledger.orders.length;
      const placed = await callTool(buyer.client, 'place_order', args);
      expect(placed).toMatchObject({ isError: false, json: { status: 201 } });
      const again = await callTool(buyer.client, 'place_order', args);
      expect(again.json).toMatchObject({ status: 201, idempotentReplayed: true, body: { id: placed.json.body.id } });
      expect(stack.simulator.ledger.orders.length - before).toBe(1);

      // A token with the read scope only may connect and read, but the dry run is a purchase route's: refused there.
      expect((await reader.client.listTools()).tools.length).toBeGreaterThan(0);
      const unscoped = await callTool(reader.client, 'quote_order', { customerId: CUSTOMER, order });
      expect(unscoped).toMatchObject({ isError: true, json: { status: 403 } });

      const audits = logs
        .lines()
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .filter((line) => line.audit === 'purchase-policy' && String(line.principal).includes('purchasing-agent'));
      expect(audits).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ decision: 'deny', dryRun: true, policies: ['agents-max-10-seats'] }),
          expect.objectContaining({ decision: 'allow', dryRun: false }),
        ]),
      );
      expect(logs.text()).not.toContain(token.split('.')[2]);
      // The tool calls are logged as their routes', and the MCP request's own line keeps its keys after them.
      const lines = logs
        .lines()
        .slice(from)
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line));
      const completed = (route: string) =>
        lines.filter((line) => line.message === 'request completed' && line.route === route);
      expect(completed('POST /customers/{customerId}/orders').length).toBeGreaterThan(0);
      const own = completed('POST /mcp');
      expect(own.length).toBeGreaterThan(0);
      for (const line of own) expect(line.correlationId, JSON.stringify(line)).toEqual(expect.any(String));
    } finally {
      await Promise.all([buyer.client.close(), person.client.close(), reader.client.close()]);
    }
  });

  it('refuses a request without a token before any tool runs', async () => {
    const anonymous = agent();
    await expect(anonymous.connected).rejects.toThrow(/401/);
    await anonymous.client.close();
  });
});

describe('POST /mcp after the purchase: a subscription change is quoted first, then carried out once', () => {
  let stack: Stack;
  let client: Client;
  const changes = (id: string) =>
    stack.simulator.requests.filter((r) => r.method === 'PATCH' && r.path.includes(`/subscriptions/${id}`));

  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, mcp: { writes: true } });
    client = new Client({ name: 'mcp-subscriptions-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${stack.url}/mcp`)));
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('reads the windows, quotes a reduction, places it once, replays it, and refuses it unquoted', async () => {
    const bought = {
      lineItems: [{ ...order.lineItems[0], quantity: 7, termDuration: 'P1Y' }],
      billingCycle: 'monthly',
    };
    const quote = await callTool(client, 'quote_order', { customerId: CUSTOMER, order: bought });
    const placed = await callTool(client, 'place_order', {
      quoteId: quote.json.quoteId,
      customerId: CUSTOMER,
      order: bought,
    });
    expect(placed).toMatchObject({ isError: false, json: { status: 201 } });
    const subscriptionId = placed.json.body.lineItems[0].subscriptionId;

    const read = await callTool(client, 'get_subscription', { customerId: CUSTOMER, subscriptionId });
    expect(read).toMatchObject({
      isError: false,
      json: { body: { windows: { cancellable: true, removableSeats: 7 } } },
    });

    const change = { action: 'reduce', seatsToRemove: 2 };
    const dryRun = await callTool(client, 'quote_subscription_change', {
      customerId: CUSTOMER,
      subscriptionId,
      change,
    });
    expect(dryRun).toMatchObject({ isError: false, json: { status: 200, body: { dryRun: true } } });
    expect(changes(subscriptionId)).toEqual([]);

    const args = { quoteId: dryRun.json.quoteId, customerId: CUSTOMER, subscriptionId, change };
    const other = await callTool(client, 'place_subscription_change', {
      ...args,
      change: { action: 'reduce', seatsToRemove: 3 },
    });
    expect(other).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /differs/ } });
    const done = await callTool(client, 'place_subscription_change', args);
    expect(done).toMatchObject({ isError: false, json: { status: 200, body: { subscription: { quantity: 5 } } } });
    const again = await callTool(client, 'place_subscription_change', args);
    expect(again).toMatchObject({ isError: false, json: { idempotentReplayed: true } });
    expect(changes(subscriptionId)).toHaveLength(1);

    const unquoted = await callTool(client, 'place_subscription_change', {
      ...args,
      quoteId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unquoted).toMatchObject({ isError: true, json: { status: 'not-sent' } });
    expect(changes(subscriptionId)).toHaveLength(1);
  });
});

describe('partner-orders mcp usage', () => {
  async function cli(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main(args, {
      env: {},
      fetch: async () => {
        throw new Error('a usage error sends nothing');
      },
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    return { code, stdout, stderr };
  }

  it('prints its help, and refuses an unknown option or a bad endpoint with exit 2 before serving', async () => {
    expect(await cli(['mcp', '--help'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/--allow-purchases/) });
    expect(await cli(['mcp', '--allow-purchase'])).toMatchObject({ code: 2, stderr: /allow-purchase/ });
    expect(await cli(['mcp', '--endpoint', 'ftp://example.com'])).toMatchObject({ code: 2, stderr: /http or https/ });
    expect(await cli(['mcp', '--endpoint', 'https://example.com', '--region', 'eu-west-1'])).toMatchObject({
      code: 2,
      stderr: /only used for signing/,
    });
    const signedWithToken = await main(['mcp', '--endpoint', 'https://abc.execute-api.eu-west-1.amazonaws.com'], {
      env: { PARTNER_ORDERS_TOKEN: 'a.b.c' },
      stdout: { write: () => true },
      stderr: { write: () => true },
    });
    expect(signedWithToken).toBe(2);
  });
});
