// argv → one typed command, with node:util parseArgs. Everything that can be judged without the API is judged
// here and refused as a UsageError (exit 2, nothing sent); the request's contents are left to the API's own
// validation, which answers 400 naming every bad field.
import { randomUUID } from 'node:crypto';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { suggestName } from '../functions/shared/suggest.js';
import { COMMAND_HELP, type CommandName, GROUP_HELP, TOP_HELP } from './help.js';
import { type LineKind, parseLineItem, parseLineItemsJson } from './line-items.js';
import { isAwsHost, regionFromHost } from './sign.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CommonOptions {
  /** The API root; it may carry a base path, such as an API Gateway stage (`…/prod`). */
  endpoint: URL;
  /** Present when the request is to be SigV4-signed. */
  signing?: { region: string };
  idempotencyKey?: string;
  /** The key was made up by the CLI because none was given (it is printed). */
  generatedKey?: boolean;
  correlationId?: string;
  whatIf: boolean;
  /** A purchase of the same lines as a recent one is meant (Allow-Duplicate: true). */
  allowDuplicate?: boolean;
  /** Skip the confirmation a real purchase asks for on a terminal. */
  yes?: boolean;
}

type LineItems = Record<string, unknown>[];

export interface OrderCreate extends CommonOptions {
  name: 'order create';
  customerId: string;
  /** Present for add-ons: the request becomes PATCH …/orders/{orderId}. */
  orderId?: string;
  body: { lineItems: LineItems; billingCycle?: string; partnerOnRecordAttestationAccepted?: true };
}

export interface CartCreate extends CommonOptions {
  name: 'cart create';
  customerId: string;
  body: { lineItems: LineItems; checkout?: true; partnerOnRecordAttestationAccepted?: true };
}

export interface CartCheckout extends CommonOptions {
  name: 'cart checkout';
  customerId: string;
  cartId: string;
}

export interface CredentialsCheck extends CommonOptions {
  name: 'credentials check';
}

export interface CatalogSearch extends CommonOptions {
  name: 'catalog search';
  customerId: string;
  /** The words to find, as one string. */
  search: string;
  targetView?: string;
  /** Print the API's JSON instead of the table. */
  json: boolean;
}

export interface OrderStatus extends CommonOptions {
  name: 'order status';
  customerId: string;
  orderId: string;
  /** Print the API's whole answer instead of the table. */
  json: boolean;
}

export interface CustomerCheck extends CommonOptions {
  name: 'customer check';
  customerId: string;
  json: boolean;
}

/** `order list` and `subscription list`: one page, or every page with --all. */
export interface ListCommand extends CommonOptions {
  name: 'order list' | 'subscription list';
  customerId: string;
  /** order list: one billing cycle's orders; subscription list: the subscriptions of one order. */
  filter?: { billingType: string } | { orderId: string };
  continuationToken?: string;
  all: boolean;
  json: boolean;
}

export interface OrderWait extends CommonOptions {
  name: 'order wait';
  customerId: string;
  orderId: string;
  /** How long to wait for the order to be provisioned (--timeout). */
  timeoutMs: number;
}

export interface PurchaseShow extends CommonOptions {
  name: 'purchase show';
  /** The key the purchase was sent with: it goes into the path, not into an Idempotency-Key header. */
  key: string;
}

/** `subscription show|cancel|reduce|auto-renew|schedule` (docs/after-purchase.md). */
export interface SubscriptionCommand extends CommonOptions {
  name:
    | 'subscription show'
    | 'subscription cancel'
    | 'subscription reduce'
    | 'subscription auto-renew'
    | 'subscription schedule';
  customerId: string;
  subscriptionId: string;
  /** The change's body; absent for show, cancel and cancelling what is scheduled. */
  body?: Record<string, unknown>;
  /** `schedule --cancel`: POST …/scheduled-changes/cancel. */
  cancelScheduled?: boolean;
}

export type Command =
  | SubscriptionCommand
  | OrderCreate
  | OrderStatus
  | OrderWait
  | CartCreate
  | CartCheckout
  | PurchaseShow
  | CredentialsCheck
  | CatalogSearch
  | CustomerCheck
  | ListCommand;

/** `order wait`'s default --timeout. */
export const DEFAULT_WAIT_MS = 30 * 60_000;

export type Invocation = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; command: Command };

/** What a purchase is made of on the command line: the purchase commands and `policy explain` take them alike. */
export const PURCHASE_OPTIONS = {
  'customer-id': { type: 'string' },
  'order-id': { type: 'string' },
  'cart-id': { type: 'string' },
  'line-item': { type: 'string', multiple: true },
  'line-items-json': { type: 'string' },
  'billing-cycle': { type: 'string' },
  checkout: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

const OPTIONS = {
  endpoint: { type: 'string' },
  'idempotency-key': { type: 'string' },
  'correlation-id': { type: 'string' },
  region: { type: 'string' },
  sign: { type: 'boolean' },
  'no-sign': { type: 'boolean' },
  'what-if': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...PURCHASE_OPTIONS,
  'partner-on-record-attestation-accepted': { type: 'boolean' },
  'target-view': { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  'subscription-id': { type: 'string' },
  seats: { type: 'string' },
  on: { type: 'boolean' },
  off: { type: 'boolean' },
  quantity: { type: 'string' },
  'term-duration': { type: 'string' },
  'catalog-item-id': { type: 'string' },
  cancel: { type: 'boolean' },
  'allow-duplicate': { type: 'boolean' },
  yes: { type: 'boolean' },
  all: { type: 'boolean' },
  'continuation-token': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = [
  'endpoint',
  'idempotency-key',
  'correlation-id',
  'region',
  'sign',
  'no-sign',
  'what-if',
  'help',
  'allow-duplicate',
  'yes',
];

/** The options of the commands that buy nothing: no key and no dry run. */
const READ_ONLY = COMMON.filter(
  (option) => option !== 'idempotency-key' && option !== 'what-if' && option !== 'allow-duplicate' && option !== 'yes',
);

/** Which options each command takes: one given to the wrong command is refused, not ignored. */
const ALLOWED: Record<CommandName, ReadonlySet<OptionName>> = {
  'order create': new Set([
    ...COMMON,
    'customer-id',
    'line-item',
    'line-items-json',
    'billing-cycle',
    'order-id',
    'partner-on-record-attestation-accepted',
  ]),
  'cart create': new Set([
    ...COMMON,
    'customer-id',
    'line-item',
    'line-items-json',
    'checkout',
    'partner-on-record-attestation-accepted',
  ]),
  // A checkout by cart id is not compared with recent purchases (its lines are in the cart): no --allow-duplicate.
  'cart checkout': new Set([...COMMON.filter((option) => option !== 'allow-duplicate'), 'customer-id', 'cart-id']),
  // A read-only check: no purchase, so no key and no dry run.
  'credentials check': new Set(READ_ONLY),
  'catalog search': new Set([...READ_ONLY, 'customer-id', 'target-view', 'json']),
  // After the purchase: reads. `purchase show` takes the key it asks about.
  'order status': new Set([...READ_ONLY, 'customer-id', 'order-id', 'json']),
  'order list': new Set([...READ_ONLY, 'customer-id', 'billing-cycle', 'all', 'continuation-token', 'json']),
  'subscription list': new Set([...READ_ONLY, 'customer-id', 'order-id', 'all', 'continuation-token', 'json']),
  'customer check': new Set([...READ_ONLY, 'json']),
  'order wait': new Set([...READ_ONLY, 'customer-id', 'order-id', 'timeout']),
  'purchase show': new Set([...READ_ONLY, 'idempotency-key']),
  // Undoing a purchase: show reads; the others change a subscription like a purchase (key, --what-if).
  'subscription show': new Set([...READ_ONLY, 'customer-id', 'subscription-id']),
  'subscription cancel': new Set([...COMMON, 'customer-id', 'subscription-id']),
  'subscription reduce': new Set([...COMMON, 'customer-id', 'subscription-id', 'seats']),
  'subscription auto-renew': new Set([...COMMON, 'customer-id', 'subscription-id', 'on', 'off']),
  'subscription schedule': new Set([
    ...COMMON,
    'customer-id',
    'subscription-id',
    'quantity',
    'term-duration',
    'billing-cycle',
    'catalog-item-id',
    'cancel',
  ]),
};

const GROUPS = {
  order: ['create', 'status', 'wait', 'list'],
  customer: ['check'],
  cart: ['create', 'checkout'],
  purchase: ['show'],
  credentials: ['check'],
  catalog: ['search'],
  subscription: ['list', 'show', 'cancel', 'reduce', 'auto-renew', 'schedule'],
} as const;
type Group = keyof typeof GROUPS;
const isGroup = (word: string | undefined): word is Group => word !== undefined && Object.hasOwn(GROUPS, word);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** As the API takes it: 1-255 printable ASCII; no edge blanks, which HTTP would strip and so change the key. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;

/** The help that fits the words given so far: `order create --help` is that command's help. */
function helpFor(positionals: string[]): string {
  const [group, action] = positionals;
  if (!isGroup(group)) return TOP_HELP;
  const name = `${group} ${action}`;
  return name in COMMAND_HELP ? COMMAND_HELP[name as CommandName] : GROUP_HELP[group];
}

/** The command the words name, when they name one exactly (for pointing a usage error at its help). */
function knownCommand(positionals: string[]): CommandName | undefined {
  const [group, action] = positionals;
  if (!isGroup(group) || action === undefined || !(GROUPS[group] as readonly string[]).includes(action))
    return undefined;
  return `${group} ${action}` as CommandName;
}

/**
 * Judges every option token before node:util's strict parse does, so that the mistakes it would report in its own
 * words (`Unknown option '--bogus-flag'. To specify a positional argument starting with a '-', place it at the end
 * of the command after '--', as in '-- "--bogus-flag"`) are reported in ours, with the command's help to point at.
 */
function checkOptionTokens(argv: string[]): void {
  const { tokens, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const name = knownCommand(positionals);
  const valid = name ? ALLOWED[name] : new Set(Object.keys(OPTIONS) as OptionName[]);
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, token.name)) {
      const suggestion = token.rawName.startsWith('--') ? suggestName(token.name, valid) : undefined;
      throw new UsageError(
        `unknown option ${token.rawName}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`,
        name,
      );
    }
    const option = OPTIONS[token.name as OptionName];
    if (option.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${token.rawName} takes no value`, name);
    }
    if (option.type === 'string' && token.value === undefined) {
      throw new UsageError(`${token.rawName} needs a value`, name);
    }
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      throw new UsageError(
        `${token.rawName} needs a value, and '${token.value}' looks like an option: ` +
          `write ${token.rawName}=${token.value} if that is the value`,
        name,
      );
    }
  }
}

function commandName(positionals: string[]): CommandName {
  const [group, action, extra] = positionals;
  const all =
    'order create, order status, order wait, order list, cart create, cart checkout, purchase show, customer check, ' +
    'credentials check, catalog search, subscription list|show|cancel|reduce|auto-renew|schedule, policy check, ' +
    'policy explain or policy add-buyer';
  if (group === undefined) throw new UsageError(`no command given (${all})`);
  if (!isGroup(group)) throw new UsageError(`unknown command '${group}' (${all})`);
  const actions: readonly string[] = GROUPS[group];
  if (action === undefined) throw new UsageError(`'${group}' needs an action: ${actions.join(' or ')}`);
  if (!actions.includes(action)) {
    throw new UsageError(`unknown command '${group} ${action}' (${actions.map((a) => `${group} ${a}`).join(', ')})`);
  }
  const name = `${group} ${action}` as CommandName;
  // `catalog search` takes the words to search for, `customer check` the customer id; no other command an argument.
  if (extra !== undefined && name !== 'catalog search' && name !== 'customer check') {
    throw new UsageError(`unexpected argument '${extra}'`, name);
  }
  if (name === 'customer check' && positionals[3] !== undefined) {
    throw new UsageError(`unexpected argument '${positionals[3]}'`, name);
  }
  return name;
}

/** `source` is how the value was given (`--endpoint` or `PARTNER_ORDERS_ENDPOINT`), for the message. */
function endpointFrom(value: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} '${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} '${value}' must be an http or https URL`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`${source} '${value}' must not carry a query, fragment or user info`);
  }
  return url;
}

/** Parses the whole command line. Throws UsageError for anything it cannot take exactly as written. */
export function parseCommandLine(argv: string[], env: Env): Invocation {
  // Help wins over every other mistake on the line, so `… --bogus --help` still shows how to do it right.
  const terminator = argv.indexOf('--');
  const flags = terminator < 0 ? argv : argv.slice(0, terminator);
  if (flags.includes('--help') || flags.includes('-h')) {
    const loose = parseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true });
    return { kind: 'help', text: helpFor(loose.positionals) };
  }

  powerShellFlags(flags);
  checkOptionTokens(argv);
  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(argv);
  } catch (error) {
    // Not expected after checkOptionTokens; if node:util finds something else, say it rather than crash.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
  const { values, positionals, tokens } = parsed;
  if (values.version) {
    // Alone, as the help shows it: `--version extra` or `order create --version` is a mistake, not a version.
    const others = tokens.filter((token) => token.kind !== 'option' || token.name !== 'version');
    if (others.length > 0) throw new UsageError(`--version takes nothing else: run 'partner-orders --version'`);
    return { kind: 'version' };
  }
  const name = commandName(positionals);

  const counts = new Map<string, number>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = token.name as OptionName;
    if (!ALLOWED[name].has(option)) throw new UsageError(`${token.rawName} is not an option of '${name}'`, name);
    counts.set(option, (counts.get(option) ?? 0) + 1);
    if (!('multiple' in OPTIONS[option]) && (counts.get(option) ?? 0) > 1) {
      throw new UsageError(`${token.rawName} is given more than once`, name);
    }
    if (token.value === '') throw new UsageError(`${token.rawName} needs a value`, name);
  }

  const required = (option: 'customer-id' | 'cart-id' | 'order-id' | 'subscription-id') => {
    const value = values[option];
    if (value === undefined) throw new UsageError(`--${option} is required`, name);
    return pathId(option, value, name);
  };
  const common = commonOptions(values, env, name);
  if (name === 'credentials check') return { kind: 'run', command: { name, ...common } };
  if (name === 'customer check') {
    const id = positionals[2] ?? values['customer-id'];
    if (id === undefined) throw new UsageError(`give the customer's tenant id: 'customer check GUID'`, name);
    return {
      kind: 'run',
      command: { name, ...common, customerId: pathId('customer-id', id, name), json: values.json ?? false },
    };
  }
  if (name === 'order list' || name === 'subscription list') {
    const billing = values['billing-cycle'];
    const order = values['order-id'];
    const token = values['continuation-token'];
    if (values.all && token !== undefined) throw new UsageError('give --all or --continuation-token, not both', name);
    return {
      kind: 'run',
      command: {
        name,
        ...common,
        customerId: required('customer-id'),
        ...(billing !== undefined ? { filter: { billingType: billing } } : {}),
        ...(order !== undefined ? { filter: { orderId: pathId('order-id', order, name) } } : {}),
        ...(token === undefined ? {} : { continuationToken: token }),
        all: values.all ?? false,
        json: values.json ?? false,
      },
    };
  }
  if (name === 'order status' || name === 'order wait') {
    const ids = { customerId: required('customer-id'), orderId: required('order-id') };
    if (name === 'order status')
      return { kind: 'run', command: { name, ...common, ...ids, json: values.json ?? false } };
    const timeout = values.timeout;
    return {
      kind: 'run',
      command: {
        name,
        ...common,
        ...ids,
        timeoutMs: timeout === undefined ? DEFAULT_WAIT_MS : duration(timeout, name),
      },
    };
  }
  if (name === 'purchase show') {
    const { idempotencyKey: key, ...rest } = common;
    if (key === undefined)
      throw new UsageError('--idempotency-key is required: the key the purchase was sent with', name);
    return { kind: 'run', command: { name, ...rest, key } };
  }
  if (name === 'catalog search') {
    const search = positionals.slice(2).join(' ').trim();
    if (search === '') {
      throw new UsageError(
        `give the words to search for, e.g. 'catalog search --customer-id GUID Microsoft 365 E3'`,
        name,
      );
    }
    const view = values['target-view'];
    return {
      kind: 'run',
      command: {
        name,
        ...common,
        customerId: required('customer-id'),
        search,
        ...(view === undefined ? {} : { targetView: view }),
        json: values.json ?? false,
      },
    };
  }
  if (name === 'subscription show') {
    return {
      kind: 'run',
      command: { name, ...common, customerId: required('customer-id'), subscriptionId: required('subscription-id') },
    };
  }
  // A purchase always carries a key (the service requires one): made up here when none was given, and printed, so
  // that a person whose answer was lost can run the same command again with it.
  if (common.idempotencyKey === undefined && !common.whatIf) {
    common.idempotencyKey = randomUUID();
    common.generatedKey = true;
  }
  const customerId = required('customer-id');
  const attestation = values['partner-on-record-attestation-accepted']
    ? { partnerOnRecordAttestationAccepted: true as const }
    : {};

  switch (name) {
    case 'order create':
      return {
        kind: 'run',
        command: {
          name,
          ...common,
          customerId,
          ...(values['order-id'] === undefined ? {} : { orderId: pathId('order-id', values['order-id'], name) }),
          body: {
            lineItems: lineItems('order', values, name),
            ...(values['billing-cycle'] === undefined ? {} : { billingCycle: values['billing-cycle'] }),
            ...attestation,
          },
        },
      };
    case 'cart create':
      return {
        kind: 'run',
        command: {
          name,
          ...common,
          customerId,
          body: {
            lineItems: lineItems('cart', values, name),
            ...(values.checkout ? { checkout: true as const } : {}),
            ...attestation,
          },
        },
      };
    case 'cart checkout':
      return { kind: 'run', command: { name, ...common, customerId, cartId: required('cart-id') } };
    default:
      return {
        kind: 'run',
        command: subscriptionChange(name, values, { ...common, customerId }, required('subscription-id')),
      };
  }
}

/** Whole numbers are judged by the API (400 naming the field); only what is not a number at all is refused here. */
function count(option: string, value: string, name: CommandName): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number))
    throw new UsageError(`--${option} '${value}' is not a number`, name);
  return number;
}

function subscriptionChange(
  name: 'subscription cancel' | 'subscription reduce' | 'subscription auto-renew' | 'subscription schedule',
  values: Values,
  common: CommonOptions & { customerId: string },
  subscriptionId: string,
): SubscriptionCommand {
  const ids = { ...common, subscriptionId };
  switch (name) {
    case 'subscription cancel':
      return { name, ...ids };
    case 'subscription reduce': {
      if (values.seats === undefined) throw new UsageError('--seats is required: how many seats to remove', name);
      return { name, ...ids, body: { seatsToRemove: count('seats', values.seats, name) } };
    }
    case 'subscription auto-renew':
      if (Boolean(values.on) === Boolean(values.off)) throw new UsageError('give --on or --off', name);
      return { name, ...ids, body: { enabled: Boolean(values.on) } };
    case 'subscription schedule': {
      const changes = {
        ...(values.quantity === undefined ? {} : { quantity: count('quantity', values.quantity, name) }),
        ...(values['term-duration'] === undefined ? {} : { termDuration: values['term-duration'] }),
        ...(values['billing-cycle'] === undefined ? {} : { billingCycle: values['billing-cycle'] }),
        ...(values['catalog-item-id'] === undefined ? {} : { catalogItemId: values['catalog-item-id'] }),
      };
      if (values.cancel) {
        if (Object.keys(changes).length > 0) throw new UsageError('--cancel takes no changes', name);
        return { name, ...ids, cancelScheduled: true };
      }
      if (Object.keys(changes).length === 0) {
        throw new UsageError(
          'name a change (--quantity, --term-duration, --billing-cycle, --catalog-item-id) or --cancel',
          name,
        );
      }
      return { name, ...ids, body: changes };
    }
  }
}

/** `90s`, `15m`, `2h` or a number of seconds: more than 0, at most 7 days. */
function duration(value: string, name: CommandName): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * ({ s: 1, m: 60, h: 3_600 }[match[2] as 's' | 'm' | 'h'] ?? 1) : Number.NaN;
  if (!(seconds > 0) || seconds > 7 * 86_400) {
    throw new UsageError(`--timeout '${value}' is not a duration such as 90s, 15m or 2h (at most 7 days)`, name);
  }
  return Math.round(seconds * 1000);
}

/**
 * Ids are judged by the API (a bad customer id is its 400, exit 1), except `.` and `..`: URLs resolve those as dot
 * segments even when encoded, so they would silently turn into another route.
 */
function pathId(option: string, value: string, name: CommandName): string {
  if (value === '.' || value === '..') throw new UsageError(`--${option} '${value}' is not an id`, name);
  return value;
}

const strictParse = (argv: string[]) =>
  parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true, tokens: true });

type Values = ReturnType<typeof strictParse>['values'];

function lineItems(kind: LineKind, values: Values, name: CommandName): LineItems {
  const items = values['line-item'];
  const json = values['line-items-json'];
  if (items && json !== undefined) throw new UsageError('give --line-item or --line-items-json, not both', name);
  if (json === undefined && !items?.length) {
    throw new UsageError('at least one --line-item (or --line-items-json) is required', name);
  }
  try {
    return json !== undefined ? parseLineItemsJson(json) : (items ?? []).map((item) => parseLineItem(kind, item));
  } catch (error) {
    // Point the "run … --help" hint at this command's help, where the line item keys are listed.
    if (error instanceof UsageError) throw new UsageError(error.message, name);
    throw error;
  }
}

function commonOptions(values: Values, env: Env, name: CommandName): CommonOptions {
  const fromEnv = env.PARTNER_ORDERS_ENDPOINT || undefined;
  const endpoint =
    values.endpoint !== undefined
      ? endpointFrom(values.endpoint, '--endpoint')
      : endpointFrom(fromEnv ?? DEFAULT_ENDPOINT, fromEnv ? 'PARTNER_ORDERS_ENDPOINT' : 'the default endpoint');
  if (values.sign && values['no-sign']) throw new UsageError('give --sign or --no-sign, not both', name);
  const sign = values.sign || (!values['no-sign'] && isAwsHost(endpoint.hostname));
  let signing: CommonOptions['signing'];
  if (sign) {
    const region = values.region ?? regionFromHost(endpoint.hostname) ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
    if (!region) {
      throw new UsageError(
        `no region to sign for: ${endpoint.host} does not name one; give --region or set AWS_REGION`,
        name,
      );
    }
    signing = { region };
  } else if (values.region !== undefined) {
    // Not silently ignored: a --region without signing usually means a custom domain that needed --sign.
    throw new UsageError(`--region is only used for signing, and ${endpoint.host} is not signed: add --sign`, name);
  }
  const key = values['idempotency-key'];
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new UsageError('--idempotency-key must be 1-255 printable ASCII characters, without edge blanks', name);
  }
  const correlationId = values['correlation-id'];
  if (correlationId !== undefined && !GUID.test(correlationId)) {
    throw new UsageError(`--correlation-id '${correlationId}' is not a GUID`, name);
  }
  return {
    endpoint,
    ...(signing ? { signing } : {}),
    ...(key === undefined ? {} : { idempotencyKey: key }),
    ...(correlationId === undefined ? {} : { correlationId }),
    whatIf: values['what-if'] ?? false,
    ...(values['allow-duplicate'] ? { allowDuplicate: true } : {}),
    ...(values.yes ? { yes: true } : {}),
  };
}

/** The cmdlets' parameters people type from habit, and what this CLI calls them. */
const POWERSHELL: Record<string, string> = {
  lineitems: 'line-item (one per line item: key=value,...)',
  lineitem: 'line-item',
  whatif: 'what-if',
  confirm: 'yes (a real purchase asks to confirm on a terminal; --yes skips the question)',
  cartid: 'cart-id',
  customerid: 'customer-id',
  orderid: 'order-id',
  billingcycle: 'billing-cycle',
};

/**
 * `-CustomerId`, `-LineItems`, `-WhatIf`: a PowerShell habit that node:util would read as a cluster of short options
 * (`unknown option -C`). Said in this CLI's words, with the name to use.
 */
function powerShellFlags(argv: string[]): void {
  for (const arg of argv) {
    const match = /^-([A-Za-z][A-Za-z]+)(?::.*)?$/.exec(arg);
    if (!match || arg.startsWith('--')) continue;
    const name = match[1] as string;
    const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    const known =
      POWERSHELL[name.toLowerCase()] ??
      (Object.hasOwn(OPTIONS, kebab) ? kebab : suggestName(kebab, Object.keys(OPTIONS)));
    throw new UsageError(
      known
        ? `${arg} is PowerShell style: use --${known}`
        : `${arg} is PowerShell style and has no counterpart here (options start with --; see docs/cli.md)`,
    );
  }
}
