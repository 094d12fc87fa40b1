// `partner-orders policy check` and `partner-orders policy explain`: the purchase policy (policies/) on this machine,
// evaluated by cedar-wasm from the same files the stack deploys to Verified Permissions. Nothing is sent anywhere.
// main.ts loads this file only for these commands (cedar-wasm is 4.2 MB).
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { iamCaller } from '../functions/shared/caller.js';
import type { Command } from '../functions/shared/commands.js';
import { ValidationError } from '../functions/shared/errors.js';
import { Logger } from '../functions/shared/log.js';
import { PurchasePolicy } from '../functions/shared/policy/check.js';
import { CedarEngine, POLICY_DIR, readPolicyFiles } from '../functions/shared/policy/local.js';
import { cartLines, type PolicyAction, principalOf, purchaseOf } from '../functions/shared/policy/model.js';
import { CreateCartRequest } from '../functions/shared/schemas/carts.js';
import { AddOnRequest, CreateOrderRequest } from '../functions/shared/schemas/orders.js';
import { checkoutCommand, createCartCommand } from '../functions/shared/services/carts.js';
import { addOnCommand, createOrderCommand } from '../functions/shared/services/orders.js';
import { parseParts } from '../functions/shared/validation.js';
import { addBuyer } from './add-buyer.js';
import { PURCHASE_OPTIONS } from './args.js';
import { POLICY_ADD_BUYER_HELP, POLICY_CHECK_HELP, POLICY_EXPLAIN_HELP, POLICY_HELP } from './help.js';
import { EXIT, type ExitCode } from './http.js';
import { parseLineItem, parseLineItemsJson } from './line-items.js';
import { UsageError } from './usage-error.js';

interface Output {
  write(chunk: string): unknown;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  policies: { type: 'string' },
  local: { type: 'boolean' },
  caller: { type: 'string' },
  group: { type: 'string', multiple: true },
  action: { type: 'string' },
  ...PURCHASE_OPTIONS,
} as const satisfies ParseArgsOptionsConfig;

const ACTIONS: readonly PolicyAction[] = ['CreateOrder', 'AddOn', 'CreateCart', 'CheckoutCart'];
const CHECK_OPTIONS = new Set(['help', 'policies', 'local']);

/**
 * A caller as functions/shared/caller.ts names it (`events:com.example.billing`, `http:iam:arn:…:role/Billing`,
 * `http:jwt:["iss","sub"]`, `invoke`), or an IAM role, user or assumed-role ARN (taken as a SigV4 caller).
 */
export function callerFrom(text: string): string {
  if (text.startsWith('arn:')) return `http:${iamCaller(text)}`;
  try {
    principalOf(text);
  } catch {
    throw new UsageError(
      `--caller '${text}' is not a caller: events:<source>, invoke, an IAM role ARN, http:iam:<arn> or http:jwt:["<issuer>","<subject>"]`,
      'policy explain',
    );
  }
  return text;
}

export async function policyMain(argv: string[], stdout: Output, stderr: Output): Promise<ExitCode> {
  const say = (line: string) => stderr.write(`partner-orders: ${line}\n`);
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    stdout.write(POLICY_HELP);
    return action === undefined ? EXIT.usage : EXIT.ok;
  }
  if (action === 'add-buyer') return addBuyerMain(rest, stdout, say);
  if (action !== 'check' && action !== 'explain') {
    say(`unknown command 'policy ${action}' (policy check, policy explain, policy add-buyer)`);
    return EXIT.usage;
  }
  const name = `policy ${action}`;
  let values: ReturnType<typeof parse>;
  try {
    values = parse(rest, action);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    say(`run 'partner-orders ${name} --help' for usage`);
    return EXIT.usage;
  }
  if (values.help) {
    stdout.write(action === 'check' ? POLICY_CHECK_HELP : POLICY_EXPLAIN_HELP);
    return EXIT.ok;
  }
  const dir = values.policies ?? POLICY_DIR;
  const { files, problems } = readPolicyFiles({ dir, local: values.local ?? false });
  if (action === 'check') {
    for (const problem of problems) {
      stdout.write(`${problem.file}${problem.policy ? ` (${problem.policy})` : ''}: ${problem.message}\n`);
    }
    if (problems.length > 0) {
      say(`${problems.length} problem(s) in the policy files`);
      return EXIT.refused;
    }
    const ids = Object.keys(files.policies);
    stdout.write(`ok: ${ids.length} policies (${ids.join(', ')}), ${files.entities.length} entities, schema valid\n`);
    return EXIT.ok;
  }
  if (problems.length > 0) {
    say(`the policy files have problems: run 'partner-orders policy check${values.local ? ' --local' : ''}'`);
    return EXIT.usage;
  }
  try {
    // The decision's audit line belongs in a deployed function's log, not on this terminal's stdout.
    const policy = new PurchasePolicy(new CedarEngine(files), new Logger('partner-orders', 'SILENT'));
    return await explain(values, policy, stdout, say);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    say(`run 'partner-orders ${name} --help' for usage`);
    return EXIT.usage;
  }
}

/** `policy add-buyer CALLER [--group NAME] [--policies DIR]`: edits entities.json (docs/deploy.md, going live). */
function addBuyerMain(argv: string[], stdout: Output, say: (line: string) => void): ExitCode {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof ADD_BUYER; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: ADD_BUYER, allowPositionals: true, strict: true });
  } catch (error) {
    say((error as Error).message.split('. ')[0] ?? 'bad option');
    say(`run 'partner-orders policy add-buyer --help' for usage`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    stdout.write(POLICY_ADD_BUYER_HELP);
    return EXIT.ok;
  }
  const [who, extra] = parsed.positionals;
  try {
    if (who === undefined || extra !== undefined) {
      throw new UsageError(
        'give one caller: an IAM role ARN, events:<source>, invoke or http:jwt:["<issuer>","<subject>"]',
      );
    }
    const { file, principal, changed } = addBuyer({
      caller: callerFrom(who),
      group: parsed.values.group ?? 'buyers',
      dir: parsed.values.policies ?? POLICY_DIR,
    });
    stdout.write(
      `${changed ? 'added' : 'already there:'} ${principal} in group ${parsed.values.group ?? 'buyers'} (${file})\n`,
    );
    say('deploy to apply it (npm run deploy); try it first with partner-orders policy explain');
    return EXIT.ok;
  } catch (error) {
    say((error as Error).message);
    return EXIT.usage;
  }
}

const ADD_BUYER = {
  help: { type: 'boolean', short: 'h' },
  group: { type: 'string' },
  policies: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

function parse(argv: string[], action: 'check' | 'explain') {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('. ')[0] ?? 'bad option', `policy ${action}`);
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  if (action === 'check') {
    const wrong = Object.keys(parsed.values).find((option) => !CHECK_OPTIONS.has(option));
    if (wrong) throw new UsageError(`--${wrong} is not an option of 'policy check'`);
  }
  return parsed.values;
}

type Values = ReturnType<typeof parse>;

async function explain(
  values: Values,
  policy: PurchasePolicy,
  stdout: Output,
  say: (line: string) => void,
): Promise<ExitCode> {
  if (!values.caller) throw new UsageError('--caller is required');
  if (!values['customer-id']) throw new UsageError('--customer-id is required');
  const action = values.action as PolicyAction | undefined;
  if (!action || !ACTIONS.includes(action)) throw new UsageError(`--action must be one of ${ACTIONS.join(', ')}`);
  const caller = callerFrom(values.caller);
  const customerId = values['customer-id'];
  const kind = action === 'CreateOrder' || action === 'AddOn' ? 'order' : 'cart';
  const items = values['line-item'];
  const json = values['line-items-json'];
  if (items && json !== undefined) throw new UsageError('give --line-item or --line-items-json, not both');
  if (!items?.length && json === undefined) throw new UsageError('at least one --line-item (or --line-items-json)');
  const lineItems = json !== undefined ? parseLineItemsJson(json) : (items ?? []).map((i) => parseLineItem(kind, i));
  if (values.checkout && action !== 'CreateCart') throw new UsageError('--checkout is for --action CreateCart');
  if (values['billing-cycle'] && kind !== 'order') throw new UsageError('--billing-cycle is for orders');

  const at = '/headers/idempotency-key'; // fields named as the HTTP API names them
  let judged: { purchase: ReturnType<typeof purchaseOf>; operation: Command['operation'] };
  try {
    if (kind === 'order') {
      const body = { lineItems, ...(values['billing-cycle'] ? { billingCycle: values['billing-cycle'] } : {}) };
      const command =
        action === 'AddOn'
          ? addOnCommand(
              customerId,
              values['order-id'] ?? '{orderId}',
              parseParts({ order: [AddOnRequest, body] }, () => '/body').order,
            )
          : createOrderCommand(customerId, parseParts({ order: [CreateOrderRequest, body] }, () => '/body').order);
      judged = { purchase: purchaseOf(command, at), operation: command.operation };
    } else {
      const body = { lineItems, ...(values.checkout ? { checkout: true } : {}) };
      const { cart } = parseParts({ cart: [CreateCartRequest, body] }, () => '/body');
      if (action === 'CheckoutCart') {
        // A checkout is judged on the cart's lines: here, the ones given.
        const command = checkoutCommand(customerId, values['cart-id'] ?? '{cartId}');
        judged = { purchase: cartLines(purchaseOf(command, at), cart.lineItems), operation: command.operation };
      } else {
        const command = createCartCommand(customerId, cart);
        judged = { purchase: purchaseOf(command, at), operation: command.operation };
      }
    }
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new UsageError(
        `not a valid request: ${error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
        'policy explain',
      );
    }
    throw error;
  }
  const decision = await policy.judge(
    judged.purchase,
    { caller, callerGroups: values.group ?? [], dryRun: true },
    judged.operation,
    Date.now() + 10_000,
  );
  return report(decision, stdout, say);
}

function report(
  decision: Awaited<ReturnType<PurchasePolicy['judge']>>,
  stdout: Output,
  say: (line: string) => void,
): ExitCode {
  const out = {
    decision: decision.allowed ? 'allow' : 'deny',
    principal: decision.principal,
    actions: decision.actions,
    policies: decision.policies.map((p) => p.id),
    ...(decision.denial ? { field: decision.denial.path, reason: decision.denial.reason, line: decision.origin } : {}),
  };
  stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (decision.denial) {
    const by = decision.denial.policies.length > 0 ? ` (policy ${decision.denial.policies.join(', ')})` : '';
    say(`refused: ${decision.denial.path}: ${decision.denial.reason}${by}`);
    return EXIT.refused;
  }
  say(`allowed by ${out.policies.join(', ')}`);
  return EXIT.ok;
}
