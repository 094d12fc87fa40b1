// Issue 24's "done when": the MCP server driven by a client nobody here wrote (the SDK's own Client) against
// `npm start` as a person runs it (a child process: the local server, its simulator and dynalite), over both
// transports — stdio (`node bin/partner-orders.mjs mcp --endpoint …`) and Streamable HTTP (`POST /mcp`, the route a
// deployment serves). On each: the tools are listed, a quote then one purchase, the same call again replays it (same
// order id, one order in the simulator's ledger), a purchase without a prior dry run is refused, with writes off the
// purchase tools are absent, and a policy denial arrives as a tool error carrying the problem.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmStart as startLocalServer } from '../support/npm-start.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const OFFER = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
/** Each transport buys its own quantity: the possible-duplicate guard would refuse the same lines under another key. */
const orderOf = (quantity: number) => ({
  lineItems: [{ offerId: OFFER, quantity, termDuration: 'P1Y' }],
  billingCycle: 'monthly',
});

interface Server {
  child: ChildProcess;
  url: string;
  state: string;
  exited: Promise<unknown>;
}

const servers: Server[] = [];

/** `npm start` on a free port, its state in a folder of its own (the simulator's ledger is read from it). */
async function npmStart(env: Record<string, string>): Promise<Server> {
  const state = mkdtempSync(join(tmpdir(), 'partner-orders-mcp-'));
  const { child, url, exited } = await startLocalServer({
    state,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
  });
  const server = { child, url, state, exited };
  servers.push(server);
  return server;
}

/** The orders Partner Center (the simulator) holds, as it saved them (no file yet: nothing was ever bought). */
function ledger(server: Server): { id: string }[] {
  const file = join(server.state, 'simulator.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).store.orders : [];
}

type Transport = 'stdio' | 'http';

/** An SDK client: over stdio a `partner-orders mcp` process it launches, over HTTP the server's own `/mcp` route. */
async function connect(transport: Transport, server: Server, writes: boolean): Promise<Client> {
  const client = new Client({ name: 'mcp-npm-start-test', version: '1' });
  if (transport === 'stdio') {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [
          join(ROOT, 'bin', 'partner-orders.mjs'),
          'mcp',
          '--endpoint',
          server.url,
          ...(writes ? ['--allow-purchases'] : []),
        ],
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '' },
        stderr: 'pipe',
      }),
    );
  } else {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  }
  return client;
}

interface ToolAnswer {
  isError: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the tools answer JSON of every shape
  json: any;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as {
    isError?: boolean;
    content: { type: string; text: string }[];
  };
  const text = result.content.map((part) => part.text).join('');
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // A plain-text answer (the SDK's own input validation error) stays text.
  }
  return { isError: result.isError === true, json };
}

const PURCHASE_TOOLS = ['place_cart', 'place_order', 'place_subscription_change'];

let writesOn: Server;
let writesOff: Server;

beforeAll(async () => {
  // The HTTP route's writes are the deployment's (MCP_WRITES); stdio's are the process's flag.
  [writesOn, writesOff] = await Promise.all([npmStart({ MCP_WRITES: 'true' }), npmStart({})]);
}, 120_000);

afterAll(async () => {
  for (const server of servers) {
    if (server.child.exitCode === null) server.child.kill('SIGTERM');
  }
  await Promise.race([Promise.all(servers.map((server) => server.exited)), new Promise((r) => setTimeout(r, 10_000))]);
  for (const server of servers) {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(server.state, { recursive: true, force: true });
  }
}, 30_000);

describe.each([
  ['stdio', 3],
  ['http', 4],
] as const)('MCP over %s against npm start (SDK client)', (transport, quantity) => {
  const order = orderOf(quantity);
  let buyer: Client;
  let reader: Client;

  beforeAll(async () => {
    [buyer, reader] = await Promise.all([connect(transport, writesOn, true), connect(transport, writesOff, false)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([buyer?.close(), reader?.close()]);
  });

  it('lists the tools; with writes off the purchase tools are absent', async () => {
    const names = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);
    const all = await names(buyer);
    expect(all).toEqual(
      expect.arrayContaining([...PURCHASE_TOOLS, 'quote_order', 'search_catalog', 'get_subscription']),
    );
    const readOnly = await names(reader);
    expect(readOnly).toEqual(expect.arrayContaining(['quote_order', 'quote_cart', 'list_orders']));
    for (const tool of PURCHASE_TOOLS) expect(readOnly).not.toContain(tool);
    expect(readOnly.sort()).toEqual(all.filter((name) => !PURCHASE_TOOLS.includes(name)).sort());
  });

  it('quotes, buys once, and the same call again replays the purchase: one order in the ledger', async () => {
    const before = ledger(writesOn).length;
    const quote = await call(buyer, 'quote_order', { customerId: CUSTOMER, order });
    expect(quote).toMatchObject({ isError: false, json: { status: 200, body: { dryRun: true } } });
    expect(quote.json.quoteId).toEqual(expect.any(String));
    expect(ledger(writesOn)).toHaveLength(before);

    const args = { quoteId: quote.json.quoteId, customerId: CUSTOMER, order };
    const placed = await call(buyer, 'place_order', args);
    expect(placed).toMatchObject({ isError: false, json: { status: 201 } });
    expect(placed.json.idempotentReplayed).toBeUndefined();
    const orderId = placed.json.body.id;
    expect(orderId).toEqual(expect.any(String));

    const again = await call(buyer, 'place_order', args);
    expect(again).toMatchObject({
      isError: false,
      json: { status: 201, idempotentReplayed: true, body: { id: orderId } },
    });
    const orders = ledger(writesOn);
    expect(orders).toHaveLength(before + 1);
    expect(orders.filter((held) => held.id === orderId)).toHaveLength(1);
  });

  it('refuses a purchase without a prior dry run, and sends nothing', async () => {
    const before = ledger(writesOn).length;
    const unquoted = await call(buyer, 'place_order', {
      quoteId: '00000000-0000-4000-8000-000000000000',
      customerId: CUSTOMER,
      order: orderOf(quantity + 10),
    });
    expect(unquoted).toMatchObject({ isError: true, json: { status: 'not-sent', detail: /call quote_order first/ } });
    const noQuoteId = await call(buyer, 'place_order', { customerId: CUSTOMER, order: orderOf(quantity + 10) });
    expect(noQuoteId.isError).toBe(true);
    expect(ledger(writesOn)).toHaveLength(before);
  });

  it('answers a policy denial as a tool error carrying the problem, and gives no quote', async () => {
    // npm start's guardrails (policies/guardrails.cedar): at most 300 seats a line.
    const denied = await call(buyer, 'quote_order', { customerId: CUSTOMER, order: orderOf(301) });
    expect(denied).toMatchObject({
      isError: true,
      json: { status: 403, body: { status: 403, type: expect.stringMatching(/policy/) } },
    });
    expect(JSON.stringify(denied.json.body)).toContain('max-300-seats-per-line');
    expect(denied.json.quoteId).toBeUndefined();
  });
});

describe('POST /mcp as a route', () => {
  it('answers GET with 405 (a stateless server has no event stream), and is read-only without MCP_WRITES', async () => {
    const get = await fetch(`${writesOn.url}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    await get.body?.cancel();
  });

  it('holds a quote to its principal, not to a connection: a quote made on one connection is placed from another', async () => {
    const order = orderOf(6);
    const first = await connect('http', writesOn, true);
    const second = await connect('http', writesOn, true);
    try {
      const quote = await call(first, 'quote_order', { customerId: CUSTOMER, order });
      expect(quote.isError).toBe(false);
      const placed = await call(second, 'place_order', { quoteId: quote.json.quoteId, customerId: CUSTOMER, order });
      expect(placed).toMatchObject({ isError: false, json: { status: 201 } });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
