// The reconciler: a scheduled look at purchases whose outcome is still unknown (exactly-once: an attempt was sent and
// no answer, retry or redelivery has settled it) once RECONCILE_AFTER_MINUTES have passed since their last attempt.
// Each is looked for in Partner Center with the same reconcile code a retry uses (exactly-once/reconcile.ts), the
// result is recorded in its journal, and published:
//   PurchaseReconciled      the purchase was placed: its orders, claimed for its key (and tracked from here on)
//   PurchaseNeedsAttention  nothing found, two candidate orders, or a journal that cannot be read back (alarmed)
// Nothing is ever bought here: the reconciler reads and claims, it never sends a purchase. A purchase left alone
// stays "maybe placed" in its journal, so a later retry with its key still looks before it sends.

import { OutcomeUnknownError } from '../errors.js';
import type { PurchaseJournals } from '../exactly-once/journals.js';
import { findAddOn, findCheckout, findOrder } from '../exactly-once/reconcile.js';
import { type JournalEntry, ownerOf, type RecordedCommand, type Resolution, scopeOf } from '../exactly-once/records.js';
import type { IdempotencyStore } from '../idempotency.js';
import { logger } from '../log.js';
import type { AddOnRequest, CreateOrderRequest, Order } from '../schemas/orders.js';
import type { ServiceContext } from '../services/context.js';
import { lineKeys } from '../services/orders.js';
import type { PollBudget } from './budget.js';
import type { Publish } from './events.js';
import type { ProvisioningTracking } from './tracking.js';

export interface ReconcilerDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  journals: PurchaseJournals;
  idempotency: Pick<IdempotencyStore, 'peek' | 'records'>;
  publish: Publish;
  budget: PollBudget;
  tracking?: Pick<ProvisioningTracking, 'start'>;
  /** A purchase is looked at once its last attempt is this old (RECONCILE_AFTER_MINUTES). */
  reconcileAfterMs: number;
  /** At most this many purchases per run (RECONCILE_BATCH). */
  batch: number;
  /** How far Partner Center's clock may be behind ours (CLOCK_SKEW_SECONDS), as for a retry. */
  skewMs: number;
  now?: () => number;
}

export interface ReconcileReport {
  /** Purchases the index named. */
  looked: number;
  reconciled: number;
  needsAttention: number;
  /** An outcome had been stored after all (the answer was recorded, only the index was not told). */
  settled: number;
  /** A retry is running or was sent since: left to it. */
  skipped: number;
  /** Partner Center could not be read: looked at again next run. */
  failed: number;
  /** Out of polling budget (or time) before every purchase was looked at: the rest wait for the next run. */
  deferred: number;
}

type Found = { outcome: 'found'; orders: Order[]; result: unknown };
type Verdict = Found | { outcome: 'not-found' | 'ambiguous' | 'unreadable'; detail: string; candidates?: string[] };

/** Partner Center reads each purchase kind needs (the budget is taken before they are made). */
const READS: Record<string, number> = { createOrder: 2, addOnToOrder: 1, checkoutCart: 2, createCart: 2 };

export async function reconcileUnknownPurchases(
  deps: ReconcilerDependencies,
  call: { correlationId: string; deadline: number },
): Promise<ReconcileReport> {
  const now = deps.now ?? Date.now;
  const cutoff = now() - deps.reconcileAfterMs;
  const owners = await deps.journals.unresolved(cutoff, deps.batch);
  const report: ReconcileReport = {
    looked: owners.length,
    reconciled: 0,
    needsAttention: 0,
    settled: 0,
    skipped: 0,
    failed: 0,
    deferred: 0,
  };
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    correlationId: call.correlationId,
    deadline: call.deadline,
    dryRun: false,
  };
  for (const [index, owner] of owners.entries()) {
    if (now() >= call.deadline) {
      report.deferred += owners.length - index;
      break;
    }
    const result = await logger.withKeys({ journal: owner.slice(0, 16) }, () =>
      reconcileOne(owner, cutoff, deps, ctx).catch((error: unknown) => {
        logger.error('purchase could not be reconciled this run', { error });
        return 'failed' as const;
      }),
    );
    if (result === 'deferred') {
      report.deferred += owners.length - index;
      break;
    }
    report[result === 'needs-attention' ? 'needsAttention' : result] += 1;
  }
  logger.info('reconciler run', { ...report });
  return report;
}

async function reconcileOne(
  owner: string,
  cutoff: number,
  deps: ReconcilerDependencies,
  ctx: ServiceContext,
): Promise<'reconciled' | 'needs-attention' | 'settled' | 'skipped' | 'failed' | 'deferred'> {
  const now = deps.now ?? Date.now;
  // The index is eventually consistent and keeps only keys: the journal itself says what is true now.
  const journal = await deps.journals.read(owner);
  const entry = journal?.entry;
  if (!entry?.unresolved || entry.lastSentAt === undefined || entry.lastSentAt >= cutoff) return 'skipped';
  const lastSentAt = entry.lastSentAt;
  const command = entry.command;
  const record = async (resolution: Omit<Resolution, 'at'>) => {
    const recorded = await deps.journals.resolve(owner, lastSentAt, { ...resolution, at: now() });
    if (!recorded) logger.warn('an attempt was sent since the reconciler looked; its result is left to that attempt');
  };

  if (!command || ownerOf(scopeOf(command)) !== owner) {
    return attention(deps, owner, entry, command, record, {
      outcome: 'unreadable',
      detail:
        'The journal does not say what was asked (written before commands were recorded), so the purchase cannot be looked for.',
    });
  }
  const scope = scopeOf(command);
  const state = await deps.idempotency.peek({
    scope,
    fingerprint:
      command.input === undefined
        ? undefined
        : { operation: command.operation, customerId: command.customerId, input: command.input },
  });
  if (state.idempotency === 'in-progress') return 'skipped';
  if (state.idempotency === 'replay') {
    // Answered after all (a stored outcome; only taking it out of the index failed): nothing is unknown.
    await record({ outcome: 'settled', detail: `An outcome (${state.status}) is stored for this key.` });
    return 'settled';
  }
  if (!(await deps.budget.take(READS[command.operation] ?? 2))) return 'deferred';

  let verdict: Verdict;
  try {
    verdict = await look(ctx, deps, command, entry, owner);
  } catch (error) {
    if (!(error instanceof OutcomeUnknownError)) throw error;
    logger.warn('Partner Center could not tell yet; looked at again next run', { reason: error.message });
    return 'failed';
  }
  if (verdict.outcome === 'found') {
    const orderIds = verdict.orders.map((order) => order.id);
    await deps.publish([
      {
        detailType: 'PurchaseReconciled',
        detail: { ...describe(command, entry), orderIds, result: verdict.result },
      },
    ]);
    await deps.tracking?.start({
      customerId: command.customerId,
      orderIds,
      operation: command.operation,
      idempotencyKey: command.idempotencyKey,
    });
    await record({ outcome: 'found', orderIds, detail: 'Found in Partner Center and claimed for this key.' });
    logger.warn('purchase of unknown outcome found and reconciled', { orderIds });
    return 'reconciled';
  }
  return attention(deps, owner, entry, command, record, verdict);
}

/** What the events say about a purchase: who asked for what, and when it was sent. */
const describe = (command: RecordedCommand, entry: JournalEntry) => ({
  caller: command.caller,
  operation: command.operation,
  customerId: command.customerId,
  idempotencyKey: command.idempotencyKey,
  ...(entry.firstSentAt === undefined ? {} : { firstSentAt: new Date(entry.firstSentAt).toISOString() }),
  ...(entry.lastSentAt === undefined ? {} : { lastSentAt: new Date(entry.lastSentAt).toISOString() }),
  requestIds: entry.requestIds ?? [],
});

async function attention(
  deps: ReconcilerDependencies,
  owner: string,
  entry: JournalEntry,
  command: RecordedCommand | undefined,
  record: (resolution: Omit<Resolution, 'at'>) => Promise<void>,
  verdict: Exclude<Verdict, Found>,
) {
  await deps.publish([
    {
      detailType: 'PurchaseNeedsAttention',
      detail: {
        ...(command ? describe(command, entry) : { journal: owner, requestIds: entry.requestIds ?? [] }),
        reason: verdict.outcome,
        detail: verdict.detail,
        ...(verdict.candidates ? { candidates: verdict.candidates } : {}),
      },
    },
  ]);
  await record({
    outcome: verdict.outcome,
    detail: verdict.detail,
    ...(verdict.candidates ? { candidates: verdict.candidates } : {}),
  });
  logger.error('purchase of unknown outcome needs attention', { reason: verdict.outcome });
  return 'needs-attention' as const;
}

/** Looks for the purchase as a retry would, with the reconcile code of exactly-once/, claiming what it finds. */
async function look(
  ctx: ServiceContext,
  deps: ReconcilerDependencies,
  command: RecordedCommand,
  entry: JournalEntry,
  owner: string,
): Promise<Verdict> {
  const { customerId } = command;
  const records = deps.idempotency.records(scopeOf(command));
  const claim = (id: string) => records.claim(customerId, id);
  const since = (entry.firstSentAt ?? entry.lastSentAt ?? 0) - deps.skewMs;
  const notFound = (detail: string): Verdict => ({ outcome: 'not-found', detail });
  // An order or add-on too large for its journal to keep its lines cannot be matched line by line.
  const needsLines = command.operation === 'createOrder' || command.operation === 'addOnToOrder';
  if (needsLines && command.input === undefined) {
    return {
      outcome: 'unreadable',
      detail: 'The request was too large for its journal to keep its lines, so the purchase cannot be matched.',
    };
  }
  switch (command.operation) {
    case 'createOrder': {
      const keys = lineKeys((command.input as CreateOrderRequest).lineItems);
      // First every candidate, claiming none: two that no key holds are two purchases this one could be.
      const candidates: string[] = [];
      await findOrder(ctx, customerId, keys, since, async (id) => {
        candidates.push(id);
        return false;
      });
      const owners = await Promise.all(candidates.map((id) => deps.journals.claimOwner(customerId, id)));
      const mine = candidates.find((_, i) => owners[i] === owner);
      const free = candidates.filter((_, i) => owners[i] === undefined);
      if (mine === undefined && free.length > 1) {
        return {
          outcome: 'ambiguous',
          candidates: free,
          detail: `${free.length} orders created since the first attempt have exactly the requested lines and belong to no key: which one (if any) this purchase placed cannot be told.`,
        };
      }
      const chosen = mine ?? free[0];
      if (chosen === undefined) return notFound('No order created since the first attempt has the requested lines.');
      const order = await findOrder(ctx, customerId, keys, since, async (id) => id === chosen && (await claim(id)));
      return order
        ? { outcome: 'found', orders: [order], result: order }
        : notFound('The only candidate order was claimed by another key meanwhile.');
    }
    case 'addOnToOrder': {
      const input = command.input as { orderId: string; order: AddOnRequest };
      const before = Array.isArray(entry.before) ? (entry.before as string[]) : [];
      const order = await findAddOn(ctx, customerId, input.orderId, lineKeys(input.order.lineItems), before, claim);
      return order
        ? { outcome: 'found', orders: [order], result: order }
        : notFound(
            `Order ${input.orderId} has no new add-on lines matching the request that another key has not claimed.`,
          );
    }
    case 'checkoutCart':
    case 'createCart': {
      const cartId =
        command.operation === 'checkoutCart'
          ? (command.input as { cartId: string }).cartId
          : (entry.cart as { id?: string } | undefined)?.id;
      if (!cartId) return notFound('No cart was recorded for this purchase, so no checkout of it can have been sent.');
      const result = await findCheckout(ctx, customerId, cartId, since, claim);
      return result && (result.orders ?? []).length > 0
        ? { outcome: 'found', orders: result.orders ?? [], result }
        : notFound(`Cart ${cartId} was not checked out: it is Active, expired or unknown.`);
    }
    default:
      return {
        outcome: 'unreadable',
        detail: `The journal names an operation this reconciler does not know (${command.operation}).`,
      };
  }
}
