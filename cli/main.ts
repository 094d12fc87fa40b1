// partner-orders: the command line for the partner-orders API, for people who know the Partner Center PowerShell
// cmdlets. `main` does one request and returns the exit code; all I/O goes through `io`, so tests drive it in
// process against the local stack with fake credentials.
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Command, type Env, parseCommandLine } from './args.js';
import { catalogTable, predictsRefusal, preflightNotes, searchNotes } from './catalog.js';
import { type ApiResponse, EXIT, type ExitCode, exitCodeFor, formatBody, send, Unreachable } from './http.js';
import { toApiRequest } from './request.js';
import { type CredentialProvider, signRequest } from './sign.js';
import {
  customerLine,
  listItems,
  orderListTable,
  orderStatusTable,
  purchaseSummary,
  subscriptionListTable,
} from './tables.js';
import { UsageError } from './usage-error.js';
import { waitForOrder } from './wait.js';

export interface Output {
  write(chunk: string): unknown;
}

export interface Io {
  stdout: Output;
  stderr: Output;
  fetch: typeof fetch;
  env: Env;
  /** AWS credentials for signing; default: the SDK's default chain (`defaultProvider()`). */
  credentials?: CredentialProvider;
  /** `order wait`'s pauses and clock (tests scale them down). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Fixed SigV4 signing time, for tests. */
  signingDate?: Date;
  /** Whether a person is at the keyboard (stdin is a terminal): a real purchase then asks to confirm. */
  interactive?: boolean;
  /** Asks the question and reads the answer (default: on the terminal, from stdin). */
  confirm?: (question: string) => Promise<boolean>;
}

const NAME = 'partner-orders';

export async function main(argv: string[], io: Partial<Io> = {}): Promise<ExitCode> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const say = (line: string) => stderr.write(`${NAME}: ${line}\n`);

  // The purchase policy's commands run here, offline (cedar-wasm is loaded only for them).
  if (argv[0] === 'policy') return (await import('./policy.js')).policyMain(argv.slice(1), stdout, stderr);
  // The MCP server for agents (docs/agents.md): it serves on stdio until the client goes away.
  if (argv[0] === 'mcp') {
    const code = await (await import('./mcp.js')).mcpMain(argv.slice(1), stdout, stderr, {
      ...(io.env ? { env: io.env } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
      ...(io.credentials ? { credentials: io.credentials } : {}),
    });
    return (code ?? EXIT.ok) as ExitCode;
  }

  let invocation: ReturnType<typeof parseCommandLine>;
  try {
    invocation = parseCommandLine(argv, io.env ?? process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    say(`run '${NAME} ${error.command ? `${error.command} ` : ''}--help' for usage`);
    return EXIT.usage;
  }
  if (invocation.kind === 'help') {
    stdout.write(invocation.text);
    return EXIT.ok;
  }
  if (invocation.kind === 'version') {
    stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (invocation.command.generatedKey) {
    say(`no --idempotency-key given: using ${invocation.command.idempotencyKey} (run again with it to retry safely)`);
  }

  const { command } = invocation;
  // Like the cmdlets' -Confirm: a person at a terminal sees what will be bought before anything is sent.
  if (buys(command) && !command.yes && (io.interactive ?? process.stdin.isTTY === true)) {
    stderr.write(purchaseSummary(command as Parameters<typeof purchaseSummary>[0]));
    const confirmed = await (io.confirm ?? askOnTerminal)('Buy this? [y/N] ');
    if (!confirmed) {
      say('not confirmed: nothing was sent (--yes skips the question)');
      return EXIT.refused;
    }
  }
  if (command.name === 'order list' || command.name === 'subscription list') {
    if (command.all) return listAll(command, io, say, stdout);
  }
  const request = toApiRequest(command);
  /** The request signed now (a signature is good for minutes only: `order wait` signs each ask). */
  const signed = async (): Promise<Record<string, string>> =>
    command.signing
      ? signRequest(request.url, request, {
          region: command.signing.region,
          ...(io.credentials ? { credentials: io.credentials } : {}),
          ...(io.signingDate ? { signingDate: io.signingDate } : {}),
        })
      : request.headers;
  let headers: Record<string, string>;
  try {
    headers = await signed();
  } catch (error) {
    // Almost always "no credentials in the chain" or an expired SSO session: nothing has been sent.
    say(`could not sign the request (nothing was sent): ${(error as Error).message}`);
    return EXIT.unreachable;
  }

  if (command.name === 'order wait') {
    const waited = await waitForOrder(command, async () => send(request, await signed(), io.fetch ?? fetch), {
      say,
      sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now: io.now ?? Date.now,
    });
    if (waited.response) {
      stdout.write(formatBody(waited.response));
      for (const line of diagnostics(waited.response, command)) say(line);
    }
    return waited.code;
  }

  let response: ApiResponse;
  try {
    response = await send(request, headers, io.fetch ?? fetch);
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    say(error.message);
    if (!error.maybeReceived) say(whereHint(command));
    if (error.maybeReceived && buys(command)) say(unknownOutcome(command.idempotencyKey));
    return EXIT.unreachable;
  }

  const value = response.json?.value;
  const ok = response.status >= 200 && response.status < 300;
  const table = ok ? tableFor(command, value) : undefined;
  stdout.write(table ?? formatBody(response));
  for (const line of diagnostics(response, command)) say(line);
  // A dry run that predicts a refusal says so in its exit code too, as the real request would.
  const duplicate = (value as { duplicate?: { verdict?: unknown } } | undefined)?.duplicate;
  if (ok && command.whatIf && (predictsRefusal(value) || duplicate?.verdict === 'possible-duplicate')) {
    return EXIT.refused;
  }
  return exitCodeFor(response.status);
}

/** The compact form of an answer for a person, unless --json; undefined prints the JSON. */
function tableFor(command: Command, value: unknown): string | undefined {
  if (!('json' in command) || command.json) return undefined;
  switch (command.name) {
    case 'catalog search':
      return catalogTable(value);
    case 'order status':
      return orderStatusTable(value);
    case 'customer check':
      return customerLine(value);
    case 'order list':
    case 'subscription list': {
      const items = listItems(value);
      if (!items) return undefined;
      return command.name === 'order list' ? orderListTable(items) : subscriptionListTable(items);
    }
    default:
      return undefined;
  }
}

type ListCommand = Extract<Command, { name: 'order list' | 'subscription list' }>;

/** Pages of a list read at most with --all. */
const MAX_LIST_PAGES = 100;

/** `--all`: every page, one request each, printed as one table (or one `{ items, totalCount }`). */
async function listAll(command: ListCommand, io: Partial<Io>, say: (line: string) => void, stdout: Output) {
  const items: Record<string, unknown>[] = [];
  let totalCount: unknown = null;
  let token: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const request = toApiRequest({ ...command, ...(token === undefined ? {} : { continuationToken: token }) });
    let response: ApiResponse;
    try {
      const headers = command.signing
        ? await signRequest(request.url, request, {
            region: command.signing.region,
            ...(io.credentials ? { credentials: io.credentials } : {}),
          })
        : request.headers;
      response = await send(request, headers, io.fetch ?? fetch);
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      say(error.message);
      if (!error.maybeReceived) say(whereHint(command));
      return EXIT.unreachable;
    }
    if (response.status < 200 || response.status >= 300) {
      stdout.write(formatBody(response));
      for (const line of diagnostics(response, command)) say(line);
      return exitCodeFor(response.status);
    }
    const value = response.json?.value as { items?: unknown; totalCount?: unknown; continuationToken?: unknown };
    items.push(...(listItems(value) ?? []));
    totalCount = value?.totalCount ?? totalCount;
    token = typeof value?.continuationToken === 'string' ? value.continuationToken : undefined;
    if (token === undefined) break;
  }
  if (token !== undefined) say(`stopped after ${MAX_LIST_PAGES} pages: go on with --continuation-token ${token}`);
  stdout.write(
    command.json
      ? `${JSON.stringify({ items, totalCount }, null, 2)}\n`
      : command.name === 'order list'
        ? orderListTable(items)
        : subscriptionListTable(items),
  );
  return EXIT.ok;
}

/** Nothing answered at the endpoint: where the CLI looked, and how to point it elsewhere. */
function whereHint(command: Command): string {
  return (
    `nothing answers at ${command.endpoint.origin}: is the server running (npm start listens on PORT, default 3000)? ` +
    'Point the CLI elsewhere with --endpoint URL or PARTNER_ORDERS_ENDPOINT (the deployed ApiUrl output)'
  );
}

/** Reads y/yes from the terminal. */
async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/** The commands that buy: the others only read (credentials check, catalog search, order status/wait, purchase show). */
const PURCHASES: ReadonlySet<Command['name']> = new Set([
  'order create',
  'cart create',
  'cart checkout',
  'subscription cancel',
  'subscription reduce',
  'subscription auto-renew',
  'subscription schedule',
]);

/** Whether running the command may place a purchase: one that buys, not as a dry run. */
const buys = (command: Command) => PURCHASES.has(command.name) && !command.whatIf;

const unknownOutcome = (key: string | undefined) =>
  key === undefined
    ? 'the request may have been received and its outcome is unknown: check before running it again, and give ' +
      '--idempotency-key next time so that a retry cannot buy twice'
    : `the outcome is unknown: retrying with the same --idempotency-key ${key} is safe`;

/** What a person at a terminal needs to know beyond the body: kept off stdout so scripts parse only the body. */
function diagnostics(response: ApiResponse, command: Command): string[] {
  const { name, idempotencyKey: key } = command;
  const lines: string[] = [];
  const { status, headers } = response;
  const value = response.json?.value;
  const body:
    | Partial<Record<'title' | 'detail' | 'cartId' | 'orderErrors' | 'checkout' | 'type', unknown>>
    | undefined = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  const correlation = headers.get('ms-correlationid');
  if (headers.get('idempotent-replayed') === 'true') {
    lines.push('this is the first answer to this --idempotency-key, replayed: nothing new was sent to Partner Center');
  }
  if (status < 200 || status >= 300) {
    const title =
      typeof body?.title === 'string' ? body.title : response.text.slice(0, 200).replace(/\s+/g, ' ').trim();
    const detail = typeof body?.detail === 'string' ? `: ${body.detail}` : '';
    lines.push(`HTTP ${status} ${title}${detail}${correlation ? ` (MS-CorrelationId ${correlation})` : ''}`);
    const retryAfter = headers.get('retry-after');
    if (retryAfter) lines.push(`the API asks to retry after ${retryAfter} s`);
    if (status === 401 || status === 403) {
      // API Gateway's own refusals (IAM) are `{"message": …}`, not our problem documents.
      if (body && body.type === undefined) {
        lines.push('refused by API Gateway: check the endpoint, --region and AWS credentials');
      }
    }
    if (name === 'cart create' && typeof body?.cartId === 'string') {
      lines.push(
        `the cart ${body.cartId} was created: check it out with ` +
          `'${NAME} cart checkout --customer-id ${command.customerId} --cart-id ${body.cartId}'`,
      );
    }
    if (status >= 300 && status < 400) {
      lines.push(`a redirect to ${headers.get('location') ?? '(no Location)'} was not followed: check --endpoint`);
    }
    if (status >= 500 && buys(command)) lines.push(unknownOutcome(key));
    if (status >= 500 && name === 'credentials check') {
      lines.push('the check buys nothing: run it again once the cause is fixed (docs/credentials.md, per AADSTS code)');
    }
  }
  // A checkout answers 2xx even when some order groups failed: say so where a person will see it.
  const checkout =
    name === 'cart checkout'
      ? body
      : name === 'cart create'
        ? (body?.checkout as { orderErrors?: unknown } | undefined)
        : undefined;
  if (Array.isArray(checkout?.orderErrors) && checkout.orderErrors.length > 0) {
    lines.push(`the checkout failed for ${checkout.orderErrors.length} order group(s): see orderErrors`);
  }
  if (status === 409 && body?.type === 'urn:partner-orders:problem:possible-duplicate' && name !== 'cart checkout') {
    lines.push('if this is a second purchase on purpose, run the same command again with --allow-duplicate');
  }
  if (status >= 200 && status < 300) {
    const token = (value as { continuationToken?: unknown } | undefined)?.continuationToken;
    if ((name === 'order list' || name === 'subscription list') && typeof token === 'string') {
      lines.push(`more: run it again with --continuation-token ${token} (or --all)`);
    }
    const duplicate = (value as { duplicate?: { detail?: unknown } } | undefined)?.duplicate;
    if (command.whatIf && typeof duplicate?.detail === 'string') lines.push(duplicate.detail);
    if (command.name === 'catalog search') lines.push(...searchNotes(value, command));
    else if (command.whatIf) lines.push(...preflightNotes(value));
  }
  return lines;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** For bin/partner-orders.mjs and `tsx cli/main.ts`: the real process, its arguments and exit code. */
export async function run(): Promise<void> {
  // exitCode, not process.exit(): stdout may be a pipe that is still draining.
  process.exitCode = await main(process.argv.slice(2));
}

/** True when this file is the process's entry point (`tsx cli/main.ts`), not imported (the bin shim, tests). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) await run();
