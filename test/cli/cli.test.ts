// The partner-orders CLI: argument parsing, SigV4 signing (with fixed fake credentials), and whole runs of main()
// against the local stack (local server → real handlers → Partner Center simulator), plus the bin shim as a process.
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args.js';
import { parseLineItem, parseLineItemsJson } from '../../cli/line-items.js';
import { type Io, main } from '../../cli/main.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const ADD_ON = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ';
const AWS_ENDPOINT = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com';
const ORDER_LINE = `offerId=${NCE},quantity=5,termDuration=P1Y`;
const CART_LINE = `catalogItemId=${NCE},quantity=5,billingCycle=monthly,termDuration=P1Y`;
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const SIGNING_DATE = new Date('2024-05-06T07:08:09Z');

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** main() with captured output, a fetch that records what it sends, no environment, and fixed fake credentials. */
async function cli(args: string[], io: Partial<Io> = {}) {
  let stdout = '';
  let stderr = '';
  const sent: Sent[] = [];
  const realFetch = io.fetch ?? fetch;
  const recordingFetch: typeof fetch = async (input, init) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
    });
    return realFetch(input, init);
  };
  const code = await main(args, {
    env: {},
    credentials: async () => CREDENTIALS,
    signingDate: SIGNING_DATE,
    ...io,
    fetch: recordingFetch,
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr, sent, json: () => JSON.parse(stdout) };
}

/** A fetch that answers every request with this status and JSON body, reaching nothing. */
const answering =
  (status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('line items', () => {
  it('parses order keys, numbers and provisioningContext entries (keys in any case)', () => {
    expect(
      parseLineItem(
        'order',
        `OfferId=${NCE},quantity=5,lineItemNumber=0,friendlyName=Seats for HR,termDuration=P1Y,partnerIdOnRecord=1234567,provisioningContext.domain=contoso.com,provisioningContext.x=a=b`,
      ),
    ).toEqual({
      offerId: NCE,
      quantity: 5,
      lineItemNumber: 0,
      friendlyName: 'Seats for HR',
      termDuration: 'P1Y',
      partnerIdOnRecord: '1234567',
      provisioningContext: { domain: 'contoso.com', x: 'a=b' },
    });
  });

  it('parses cart keys: renewsTo, participants, id', () => {
    expect(
      parseLineItem(
        'cart',
        `catalogItemId=${NCE},quantity=2,billingCycle=annual,id=0,renewsTo=P1Y,participant.transaction_reseller=111,participant.additional_transaction_reseller=222`,
      ),
    ).toEqual({
      catalogItemId: NCE,
      quantity: 2,
      billingCycle: 'annual',
      id: 0,
      renewsTo: { termDuration: 'P1Y' },
      participants: [
        { key: 'transaction_reseller', value: '111' },
        { key: 'additional_transaction_reseller', value: '222' },
      ],
    });
  });

  it.each([
    ['order', 'offerId=x,qty=5', "unknown key 'qty'"],
    ['order', 'offerId=x,quantity5', "'quantity5' is not key=value"],
    ['order', 'offerId=x,quantity=five', "'five' is not an integer"],
    ['order', 'offerId=x,quantity=1,quantity=2', "'quantity' is given twice"],
    ['order', 'offerId=x,,quantity=1', 'empty entry'],
    ['order', 'offerId=x,renewsTo=P1Y', "unknown key 'renewsTo'"],
    ['order', 'offerId=x,provisioningContext=a', "unknown key 'provisioningContext'"],
    ['order', 'offerId=x,provisioningContext.=a', "needs a key after 'provisioningContext.'"],
    ['cart', 'catalogItemId=x,offerId=y', "unknown key 'offerId'"],
    ['cart', 'catalogItemId=x,participant=1', "unknown key 'participant'"],
  ] as const)('refuses %s line %s, naming the token', (kind, text, message) => {
    expect(() => parseLineItem(kind, text)).toThrow(message);
    expect(() => parseLineItem(kind, text)).toThrow(`--line-item '${text}'`);
  });

  it('takes --line-items-json arrays of objects only', () => {
    expect(parseLineItemsJson('[{"offerId":"a,b","quantity":1}]')).toEqual([{ offerId: 'a,b', quantity: 1 }]);
    expect(() => parseLineItemsJson('{"offerId":"a"}')).toThrow('must be a JSON array');
    expect(() => parseLineItemsJson('[1]')).toThrow('item 0 is not an object');
    expect(() => parseLineItemsJson('[')).toThrow('not valid JSON');
  });
});

describe('arguments', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => {
    const result = parseCommandLine(argv, env);
    if (result.kind !== 'run') throw new Error(`expected a command, got ${result.kind}`);
    return result.command;
  };

  it('builds an order, in any option order, with the defaults', () => {
    const command = parse([
      '--line-item',
      ORDER_LINE,
      'order',
      '--billing-cycle',
      'monthly',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      `offerId=${NCE},quantity=1`,
    ]);
    expect(command).toMatchObject({
      name: 'order create',
      customerId: CUSTOMER,
      whatIf: false,
      body: {
        lineItems: [
          { offerId: NCE, quantity: 5, termDuration: 'P1Y' },
          { offerId: NCE, quantity: 1 },
        ],
        billingCycle: 'monthly',
      },
    });
    expect(command.endpoint.href).toBe('http://127.0.0.1:3000/');
    expect(command.signing).toBeUndefined();
  });

  it('takes the endpoint from PARTNER_ORDERS_ENDPOINT, and signs AWS hosts for the region in the host name', () => {
    const command = parse(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c'], {
      PARTNER_ORDERS_ENDPOINT: AWS_ENDPOINT,
      AWS_REGION: 'us-east-1',
    });
    expect(command.endpoint.host).toBe('abc123defg.execute-api.eu-west-1.amazonaws.com');
    expect(command.signing).toEqual({ region: 'eu-west-1' });
  });

  it('signs with --sign for AWS_REGION or --region, and not with --no-sign', () => {
    const local = ['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c'];
    expect(parse([...local, '--sign'], { AWS_REGION: 'us-east-1' }).signing).toEqual({ region: 'us-east-1' });
    expect(parse([...local, '--sign', '--region', 'eu-central-1']).signing).toEqual({ region: 'eu-central-1' });
    expect(parse([...local, '--endpoint', AWS_ENDPOINT, '--no-sign']).signing).toBeUndefined();
  });

  it('answers --help for the tool and every command, and --version', () => {
    const help = (argv: string[]) => {
      const result = parseCommandLine(argv, {});
      if (result.kind !== 'help') throw new Error('expected help');
      return result.text;
    };
    expect(help(['--help'])).toContain('partner-orders <command>');
    expect(help(['order', 'create', '-h'])).toContain('partner-orders order create --customer-id');
    expect(help(['cart', 'create', '--help'])).toContain('participant.TYPE=MPNID');
    expect(help(['cart', 'checkout', '--help'])).toContain('--cart-id GUID');
    expect(help(['cart', '--help'])).toContain('cart checkout');
    // Help wins over mistakes elsewhere on the line.
    expect(help(['order', 'create', '--bogus', '--help'])).toContain('Line item keys');
    expect(parseCommandLine(['--version'], {})).toEqual({ kind: 'version' });
  });
});

describe('main: help, version and usage errors', () => {
  it.each([
    [['--help'], 'Commands:'],
    [['-h'], 'Commands:'],
    [['order', 'create', '--help'], 'New-PartnerCustomerOrder'],
    [['cart', 'create', '--help'], 'New-PartnerCustomerCart'],
    [['cart', 'checkout', '--help'], 'Submit-PartnerCustomerCart'],
  ])('%j prints usage, options, exit codes and an example', async (argv, name) => {
    const run = await cli(argv);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(name);
    expect(run.stdout).toContain('Usage:');
    expect(run.stdout).toContain('--endpoint URL');
    expect(run.stdout).toMatch(/Examples?:/);
    expect(run.stdout).toContain('2  usage error');
    expect(run.sent).toHaveLength(0);
  });

  it('prints the version', async () => {
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it.each([
    [[], 'no command given'],
    [['orders', 'create'], "unknown command 'orders'"],
    [['order'], "'order' needs an action"],
    [['order', 'delete'], "unknown command 'order delete'"],
    [['order', 'create', 'extra', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE], "unexpected argument 'extra'"],
    [['order', 'create', '--line-item', ORDER_LINE], '--customer-id is required'],
    [['order', 'create', '--customer-id', CUSTOMER], 'at least one --line-item'],
    [['order', 'create', '--customer-id', CUSTOMER, '--line-item', 'offerId=x,qty=1'], "unknown key 'qty'"],
    [['order', 'create', '--customer-id', CUSTOMER, '--line-item', 'offerId'], "'offerId' is not key=value"],
    [
      ['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE, '--checkout'],
      '--checkout is not an option of',
    ],
    [['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE, '--bogus'], 'unknown option --bogus'],
    [['--bogus-flag'], 'unknown option --bogus-flag'],
    [['order', 'create', '--custmer-id', CUSTOMER], 'unknown option --custmer-id (did you mean --customer-id?)'],
    [['order', 'create', '-x'], 'unknown option -x'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id'], '--cart-id needs a value'],
    [['cart', 'create', '--checkout=yes'], '--checkout takes no value'],
    [['cart', 'checkout', '--endpoint', '--what-if'], "'--what-if' looks like an option"],
    [['--version', 'extra'], '--version takes nothing else'],
    [['order', 'create', '--version'], '--version takes nothing else'],
    [
      ['order', 'create', '--customer-id', CUSTOMER, '--customer-id', CUSTOMER, '--line-item', ORDER_LINE],
      'more than once',
    ],
    [['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE, '--line-items-json', '[]'], 'not both'],
    [['order', 'create', '--customer-id', CUSTOMER, '--line-items-json', '{'], 'not valid JSON'],
    [['order', 'create', '--customer-id=', '--line-item', ORDER_LINE], '--customer-id needs a value'],
    [['order', 'create', '--customer-id', CUSTOMER, '--order-id', '..', '--line-item', ORDER_LINE], 'is not an id'],
    [['cart', 'checkout', '--customer-id', CUSTOMER], '--cart-id is required'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--endpoint', 'ftp://x'], 'http or https'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--endpoint', 'not a url'], 'is not a URL'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--sign', '--no-sign'], 'not both'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--sign'], 'no region to sign for'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--region', 'eu-west-1'], 'add --sign'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--correlation-id', 'abc'], 'is not a GUID'],
    [['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--idempotency-key', 'ключ'], 'printable ASCII'],
    [
      ['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--idempotency-key', 'x'.repeat(256)],
      'printable',
    ],
  ])('%j is a usage error (exit 2), nothing sent', async (argv, message) => {
    const run = await cli(argv, { fetch: answering(201, { id: 'should-not-be-called' }) });
    expect(run.code).toBe(2);
    expect(run.sent).toHaveLength(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('--help');
  });

  it('says an unknown option in its own words, not node:util parseArgs text, and points at the help', async () => {
    const run = await cli(['--bogus-flag']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe(
      "partner-orders: unknown option --bogus-flag\npartner-orders: run 'partner-orders --help' for usage\n",
    );
    const inCommand = await cli(['cart', 'create', '--bogus-flag']);
    expect(inCommand.stderr).toContain("run 'partner-orders cart create --help'");
  });

  it('credentials check --help shows only the options the check takes', async () => {
    const run = await cli(['credentials', 'check', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ {2}--endpoint URL/m);
    expect(run.stdout).toMatch(/^ {2}--correlation-id GUID/m);
    expect(run.stdout).not.toMatch(/^ {2}--idempotency-key/m);
    expect(run.stdout).not.toMatch(/^ {2}--what-if/m);
    expect(run.stdout).not.toContain('retry only with the same --idempotency-key');
    for (const option of ['--idempotency-key', '--what-if']) {
      expect((await cli(['credentials', 'check', option, ...(option === '--what-if' ? [] : ['k'])])).code).toBe(2);
    }
  });

  it('points the hint at the command whose line item was wrong', async () => {
    const run = await cli(['cart', 'create', '--customer-id', CUSTOMER, '--line-item', 'sku=1']);
    expect(run.stderr).toContain("run 'partner-orders cart create --help'");
  });
});

describe('main: requests, answers and exit codes (fake fetch)', () => {
  it('sends the route, JSON body, Idempotency-Key and MS-CorrelationId', async () => {
    const correlationId = '11111111-2222-4333-8444-555555555555';
    const run = await cli(
      [
        'order',
        'create',
        '--customer-id',
        CUSTOMER,
        '--order-id',
        'Cs_abc',
        '--line-item',
        `offerId=${ADD_ON},quantity=2,parentSubscriptionId=${CUSTOMER}`,
        '--idempotency-key',
        'order-2024-0001',
        '--correlation-id',
        correlationId,
        '--endpoint',
        'http://127.0.0.1:3000/base/',
        '--what-if',
      ],
      { fetch: answering(200, { dryRun: true, requests: [] }) },
    );
    expect(run.code).toBe(0);
    expect(run.sent).toEqual([
      {
        url: `http://127.0.0.1:3000/base/customers/${CUSTOMER}/orders/Cs_abc?dryRun=true`,
        method: 'PATCH',
        headers: expect.objectContaining({
          'content-type': 'application/json',
          'idempotency-key': 'order-2024-0001',
          'ms-correlationid': correlationId,
        }),
        body: JSON.stringify({
          lineItems: [{ offerId: ADD_ON, quantity: 2, parentSubscriptionId: CUSTOMER }],
        }),
      },
    ]);
    expect(run.sent[0]?.headers.authorization).toBeUndefined();
    expect(run.stdout).toBe(`${JSON.stringify({ dryRun: true, requests: [] }, null, 2)}\n`);
  });

  it('sends checkout without a body or Content-Type, and the attestation flag on creates', async () => {
    const checkout = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c-1'], {
      fetch: answering(200, { orders: [] }),
    });
    expect(checkout.sent[0]).toMatchObject({
      method: 'POST',
      url: `http://127.0.0.1:3000/customers/${CUSTOMER}/carts/c-1/checkout`,
    });
    expect(checkout.sent[0]?.body).toBeUndefined();
    expect(checkout.sent[0]?.headers['content-type']).toBeUndefined();

    const cart = await cli(
      [
        'cart',
        'create',
        '--customer-id',
        CUSTOMER,
        '--line-item',
        CART_LINE,
        '--checkout',
        '--partner-on-record-attestation-accepted',
      ],
      { fetch: answering(201, {}) },
    );
    expect(JSON.parse(cart.sent[0]?.body ?? '')).toEqual({
      lineItems: [{ catalogItemId: NCE, quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' }],
      checkout: true,
      partnerOnRecordAttestationAccepted: true,
    });
  });

  it.each([
    [201, 0],
    [400, 1],
    [404, 1],
    [409, 1],
    [422, 1],
    [500, 3],
    [502, 3],
    [504, 3],
    [302, 3],
  ])('HTTP %i → exit %i, the body on stdout', async (status, code) => {
    const body = { type: 'urn:partner-orders:problem:x', title: 'T', status };
    const run = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c'], {
      fetch: answering(status, body, { 'ms-correlationid': 'corr-1', 'retry-after': '2' }),
    });
    expect(run.code).toBe(code);
    expect(JSON.parse(run.stdout)).toEqual(body);
    if (code !== 0) expect(run.stderr).toContain(`HTTP ${status} T (MS-CorrelationId corr-1)`);
    if (status >= 500) expect(run.stderr).toContain('outcome is unknown');
    if (status === 302) expect(run.stderr).toContain('was not followed');
  });

  it('says on stderr when an answer was replayed for an Idempotency-Key, and when a checkout partly failed', async () => {
    const result = { orders: [{ id: 'o1' }], orderErrors: [{ orderGroupId: '1', code: 800005 }] };
    const run = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--idempotency-key', 'k'], {
      fetch: answering(200, result, { 'idempotent-replayed': 'true' }),
    });
    expect(run.code).toBe(0);
    expect(run.json()).toEqual(result);
    expect(run.stderr).toContain('replayed');
    expect(run.stderr).toContain('the checkout failed for 1 order group(s)');
  });

  it("points at API Gateway on its own 403, and at cart checkout when a cart's checkout failed", async () => {
    const forbidden = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c'], {
      fetch: answering(403, { message: 'Forbidden' }),
    });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('refused by API Gateway');

    const cartId = '0b7e8a52-5d6a-4a3e-9f1e-2c3d4e5f6a7b';
    const failed = await cli(['cart', 'create', '--customer-id', CUSTOMER, '--line-item', CART_LINE, '--checkout'], {
      fetch: answering(504, {
        type: 'urn:partner-orders:problem:upstream-timeout',
        title: 'Timeout',
        status: 504,
        cartId,
      }),
    });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain(`cart checkout --customer-id ${CUSTOMER} --cart-id ${cartId}`);
  });

  it('prints a body that is not JSON as it came', async () => {
    const run = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c'], {
      fetch: async () => new Response('<html>Bad Gateway</html>', { status: 502 }),
    });
    expect(run).toMatchObject({ code: 3, stdout: '<html>Bad Gateway</html>\n' });
  });

  it('exits 4 when the endpoint cannot be reached', async () => {
    const port = await closedPort();
    const run = await cli([
      'cart',
      'checkout',
      '--customer-id',
      CUSTOMER,
      '--cart-id',
      'c',
      '--endpoint',
      `http://127.0.0.1:${port}`,
    ]);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`could not reach http://127.0.0.1:${port}`);
    expect(run.stderr).not.toContain('outcome is unknown'); // refused connection: nothing was received
  });

  it('exits 4, saying the outcome is unknown, when the connection drops after sending', async () => {
    const run = await cli(['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE], {
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
        });
      },
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('other side closed');
    // No key was given, so the CLI made one up, sent it and names it: the same command with it is a safe retry.
    const key = /using ([0-9a-f-]{36})/.exec(run.stderr)?.[1];
    expect(key).toBeDefined();
    expect(run.stderr).toContain(`retrying with the same --idempotency-key ${key} is safe`);
  });

  it('sends a generated Idempotency-Key with a purchase that names none, and prints it; none for --what-if', async () => {
    const run = await cli(['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE], {
      fetch: answering(201, { id: 'Cs_1' }),
    });
    const sent = run.sent[0]?.headers['idempotency-key'];
    expect(sent).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stderr).toContain(`no --idempotency-key given: using ${sent}`);
    const whatIf = await cli(['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE, '--what-if'], {
      fetch: answering(200, { dryRun: true, requests: [] }),
    });
    expect(whatIf.sent[0]?.headers['idempotency-key']).toBeUndefined();
    expect(whatIf.stderr).not.toContain('idempotency-key');
  });

  it('never tells a failed credentials check to use --idempotency-key: the check buys nothing', async () => {
    const failed = await cli(['credentials', 'check'], {
      fetch: answering(503, {
        type: 'urn:partner-orders:problem:credentials',
        title: 'Partner Center credentials were refused',
        status: 503,
        detail: 'invalid_grant AADSTS700082',
      }),
    });
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('HTTP 503 Partner Center credentials were refused');
    expect(failed.stderr).not.toContain('idempotency-key');
    expect(failed.stderr).not.toContain('outcome is unknown');
    expect(failed.stderr).toContain('the check buys nothing');
    const dropped = await cli(['credentials', 'check'], {
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
        });
      },
    });
    expect(dropped.code).toBe(4);
    expect(dropped.stderr).not.toContain('idempotency-key');
  });
});

/** SigV4 recomputed independently (node:crypto, the documented algorithm) from what was actually put on the wire. */
function expectedSignature(sent: Sent, secretAccessKey: string, region: string): string {
  const url = new URL(sent.url);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(sent.headers.authorization ?? '')?.[1]?.split(';') ?? [];
  const headerValue = (name: string) => (name === 'host' ? url.host : (sent.headers[name] ?? ''));
  const amzDate = sent.headers['x-amz-date'] ?? '';
  const scope = `${amzDate.slice(0, 8)}/${region}/execute-api/aws4_request`;
  const encode = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalRequest = [
    sent.method,
    url.pathname
      .split('/')
      .map((segment) => encode(segment))
      .join('/'),
    [...url.searchParams]
      .map(([k, v]) => `${encode(k)}=${encode(v)}`)
      .sort()
      .join('&'),
    ...signedHeaders.map((name) => `${name}:${headerValue(name).trim()}`),
    '',
    signedHeaders.join(';'),
    createHash('sha256')
      .update(sent.body ?? '')
      .digest('hex'),
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of [region, 'execute-api', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('SigV4 signing', () => {
  it('signs requests to execute-api hosts with the SDK signer, covering method, path, query and body', async () => {
    const run = await cli(
      [
        'order',
        'create',
        '--customer-id',
        CUSTOMER,
        '--line-item',
        ORDER_LINE,
        '--endpoint',
        AWS_ENDPOINT,
        '--what-if',
        '--idempotency-key',
        'k-1',
      ],
      { fetch: answering(200, { dryRun: true, requests: [] }) },
    );
    expect(run.code).toBe(0);
    const sent = run.sent[0];
    if (!sent) throw new Error('nothing sent');
    expect(sent.url).toBe(`${AWS_ENDPOINT}/customers/${CUSTOMER}/orders?dryRun=true`);
    const { authorization, 'x-amz-date': amzDate } = sent.headers;
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20240506\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^ ]*host[^ ]*, Signature=[0-9a-f]{64}$/,
    );
    expect(amzDate).toBe('20240506T070809Z');
    expect(sent.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(sent.headers['x-amz-content-sha256']).toBe(
      createHash('sha256')
        .update(sent.body ?? '')
        .digest('hex'),
    );
    expect(authorization).toContain('idempotency-key');
    expect(authorization).toContain(`Signature=${expectedSignature(sent, CREDENTIALS.secretAccessKey, 'eu-west-1')}`);
  });

  it('signs a body-less checkout (hash of the empty string) and --sign on a custom domain with --region', async () => {
    const run = await cli(
      [
        'cart',
        'checkout',
        '--customer-id',
        CUSTOMER,
        '--cart-id',
        'c',
        '--endpoint',
        'https://orders.example.com/v1',
        '--sign',
        '--region',
        'eu-central-1',
      ],
      { fetch: answering(200, { orders: [] }) },
    );
    const sent = run.sent[0];
    if (!sent) throw new Error('nothing sent');
    expect(sent.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('').digest('hex'));
    expect(sent.headers.authorization).toContain('/eu-central-1/execute-api/aws4_request');
    expect(sent.headers.authorization).toContain(
      `Signature=${expectedSignature(sent, CREDENTIALS.secretAccessKey, 'eu-central-1')}`,
    );
  });

  it('does not sign local endpoints, nor AWS ones with --no-sign', async () => {
    for (const extra of [[], ['--endpoint', AWS_ENDPOINT, '--no-sign']]) {
      const run = await cli(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', ...extra], {
        fetch: answering(200, {}),
      });
      expect(run.sent[0]?.headers).not.toHaveProperty('authorization');
      expect(run.sent[0]?.headers).not.toHaveProperty('x-amz-date');
    }
  });

  it('exits 4 and sends nothing when there are no credentials to sign with', async () => {
    const run = await cli(
      ['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', 'c', '--endpoint', AWS_ENDPOINT],
      {
        fetch: answering(200, {}),
        credentials: async () => {
          throw new Error('Could not load credentials from any providers');
        },
      },
    );
    expect(run.code).toBe(4);
    expect(run.sent).toHaveLength(0);
    expect(run.stderr).toContain('could not sign the request (nothing was sent): Could not load credentials');
  });
});

describe('end to end against the local stack', () => {
  captureLogs(); // the handlers' JSON log lines
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '500', MAX_REQUEST_MS: '2000' } });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.reset());
  const local = (args: string[]) => cli([...args, '--endpoint', stack.url]);

  it('credentials check: GET /health/credentials, the report on stdout, exit 0', async () => {
    const run = await local(['credentials', 'check']);
    expect(run).toMatchObject({ code: 0 });
    expect(run.json()).toMatchObject({ healthy: true, authMode: 'app+user', tokenAcquired: true });
    expect(stack.simulator.requests.at(-1)?.path).toMatch(/oauth2\/token$/);
    const refused = await cli(['credentials', 'check', '--idempotency-key', 'k']);
    expect(refused.code).toBe(2);
  });

  it('creates an order (201, exit 0), then adds an add-on to it with --order-id (PATCH, 200: the add-on order)', async () => {
    const created = await local([
      'order',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      ORDER_LINE,
      '--billing-cycle',
      'monthly',
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stderr).toMatch(/^partner-orders: no --idempotency-key given: using [0-9a-f-]{36} /);
    const order = created.json();
    expect(order).toMatchObject({
      id: expect.stringMatching(/^Cs_/),
      referenceCustomerId: CUSTOMER,
      billingCycle: 'monthly',
    });
    expect(stack.simulator.ledger.orders.map((o) => o.id)).toEqual([order.id]);

    const parent = order.lineItems[0].subscriptionId as string;
    const addOn = await local([
      'order',
      'create',
      '--customer-id',
      CUSTOMER,
      '--order-id',
      order.id,
      '--line-item',
      `offerId=${ADD_ON},quantity=2,parentSubscriptionId=${parent}`,
    ]);
    expect(addOn.code).toBe(0);
    expect(addOn.sent[0]?.method).toBe('PATCH');
    // Placed through a cart whose line names the parent subscription: the new order holds the add-on line only.
    const added = addOn.json();
    expect(added.id).toMatch(/^Cs_/);
    expect(added.id).not.toBe(order.id);
    expect(added).toMatchObject({ lineItems: [{ offerId: ADD_ON, quantity: 2 }] });
    expect(stack.simulator.ledger.orders.map((o) => o.id)).toEqual([order.id, added.id]);
  });

  it('creates a cart and checks it out in one call (--checkout)', async () => {
    const run = await local(['cart', 'create', '--customer-id', CUSTOMER, '--line-item', CART_LINE, '--checkout']);
    expect(run.code).toBe(0);
    const { cart, checkout } = run.json();
    expect(cart.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(checkout.orders).toHaveLength(1);
    expect(stack.simulator.ledger.orders).toHaveLength(1);
  });

  it('creates a cart, then checks it out with cart checkout', async () => {
    const created = await local([
      'cart',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      `${CART_LINE},renewsTo=P1Y`,
    ]);
    expect(created.code).toBe(0);
    const cart = created.json();
    expect(cart).toMatchObject({ status: 'Active', lineItems: [{ id: 0, catalogItemId: NCE }] });
    expect(stack.simulator.ledger.orders).toHaveLength(0);

    const checkout = await local(['cart', 'checkout', '--customer-id', CUSTOMER, '--cart-id', cart.id]);
    expect(checkout.code).toBe(0);
    expect(checkout.json().orders).toHaveLength(1);
    expect(stack.simulator.ledger.orders).toHaveLength(1);
  });

  it('--what-if shows the Partner Center requests and sends nothing upstream', async () => {
    for (const args of [
      ['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE],
      ['cart', 'create', '--customer-id', CUSTOMER, '--line-item', CART_LINE, '--checkout'],
    ]) {
      const run = await local([...args, '--what-if']);
      expect(run.code).toBe(0);
      expect(run.sent[0]?.url).toContain('?dryRun=true');
      const answer = run.json();
      expect(answer.dryRun).toBe(true);
      expect(answer.requests.length).toBeGreaterThan(0);
    }
    expect(stack.simulator.requests).toHaveLength(0);
    expect(stack.simulator.ledger).toEqual({ orders: [], carts: [] });
  });

  it('a bad customer id is refused: exit 1, the problem on stdout, nothing sent upstream', async () => {
    const run = await local(['order', 'create', '--customer-id', 'not-a-guid', '--line-item', ORDER_LINE]);
    expect(run.code).toBe(1);
    const problem = run.json();
    expect(problem).toMatchObject({
      type: 'urn:partner-orders:problem:validation',
      status: 400,
      errors: [{ path: '/path/customerId', message: expect.stringContaining('GUID') }],
    });
    expect(run.stderr).toMatch(/HTTP 400 Invalid request.*MS-CorrelationId/);
    expect(stack.simulator.requests).toHaveLength(0);
  });

  it('values the API refuses come back as its 400 (exit 1), naming the field', async () => {
    const run = await local(['order', 'create', '--customer-id', CUSTOMER, '--line-item', `offerId=${NCE},quantity=0`]);
    expect(run.code).toBe(1);
    expect(run.json().errors).toEqual([{ path: '/body/lineItems/0/quantity', message: expect.any(String) }]);
  });

  it('a Partner Center refusal is exit 1 with the upstream details', async () => {
    const run = await local([
      'order',
      'create',
      '--customer-id',
      '00000000-0000-0000-0000-000000000403',
      '--line-item',
      ORDER_LINE,
    ]);
    expect(run.code).toBe(1);
    expect(run.json()).toMatchObject({ status: 403, upstream: { status: 403 } });
  });

  it('Partner Center failing is exit 3 with the problem on stdout', async () => {
    stack.simulator.injectFault({ kind: 'server-error' });
    const run = await local(['order', 'create', '--customer-id', CUSTOMER, '--line-item', ORDER_LINE]);
    expect(run.code).toBe(3);
    expect(run.json().status).toBeGreaterThanOrEqual(500);
    expect(run.stderr).toContain('outcome is unknown');
  });
});

describe('end to end with the idempotency store', () => {
  captureLogs();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idempotency: {} });
  });
  afterAll(() => stack.stop());

  it('--idempotency-key: the same command again replays the first order; another request with it is refused', async () => {
    const args = [
      'order',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      ORDER_LINE,
      '--idempotency-key',
      'cli-1',
    ];
    const first = await cli([...args, '--endpoint', stack.url]);
    const again = await cli([...args, '--endpoint', stack.url]);
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(again.json()).toEqual(first.json());
    expect(again.stderr).toContain('replayed');
    expect(stack.simulator.ledger.orders).toHaveLength(1);

    const other = await cli([...args, '--line-item', `offerId=${NCE},quantity=1`, '--endpoint', stack.url]);
    expect(other.code).toBe(1);
    expect(other.json().status).toBe(422);
  });
});

describe('bin/partner-orders.mjs', () => {
  const bin = fileURLToPath(new URL('../../bin/partner-orders.mjs', import.meta.url));
  const exec = promisify(execFile);

  it('runs as a process: --help exits 0 with the usage', async () => {
    const { stdout } = await exec(bin, ['--help'], { env: { ...process.env, PARTNER_ORDERS_ENDPOINT: '' } });
    expect(stdout).toContain('partner-orders <command> [options]');
    expect(stdout).toContain('Exit codes:');
  });

  it('exits 2 on a usage error, with the message on stderr', async () => {
    const failure = await exec(bin, ['order', 'create', '--customer-id', CUSTOMER, '--line-item', 'offerId']).catch(
      (error: { code?: number; stderr?: string; stdout?: string }) => error,
    );
    expect(failure).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining("'offerId' is not key=value"),
    });
  });
});

/** A port on which nothing listens: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}
