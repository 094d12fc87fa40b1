// The reconciler: a scheduled look at purchases whose outcome is still unknown (a checkout was sent, and no answer,
// retry or redelivery has settled it) once RECONCILE_AFTER_MINUTES have passed since their last checkout. Each one's
// recorded cart is read (exactly-once/resolve-cart.ts), the result is recorded in its journal, and published:
//   PurchaseReconciled      the cart is Ordered: its checkout, asked again, named the orders (tracked from here on)
//   PurchaseNotPlaced       the cart is still Active: nothing was bought; a retry with the key checks it out
//   PurchaseNeedsAttention  the cart cannot be read, or its result cannot be had again (alarmed)
// Nothing is ever bought here: an Ordered cart's checkout repeats its result, and an Active cart is never checked
// out, so a caller who gave up after "outcome unknown" is never surprised by a purchase made behind its back.
import type { PurchaseJournals } from '../exactly-once/journals.js';
import { type JournalEntry, ownerOf, type RecordedCommand, type Resolution, scopeOf } from '../exactly-once/records.js';
import { type CartOutcome, resolveCart } from '../exactly-once/resolve-cart.js';
import type { IdempotencyStore } from '../idempotency.js';
import { logger } from '../log.js';
import type { ServiceContext } from '../purchase/model.js';
import type { PollBudget } from './budget.js';
import type { Publish } from './events.js';
import type { ProvisioningTracking } from './tracking.js';

export interface ReconcilerDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  journals: PurchaseJournals;
  idempotency: Pick<IdempotencyStore, 'peek'>;
  publish: Publish;
  budget: PollBudget;
  tracking?: Pick<ProvisioningTracking, 'start'>;
  /** A purchase is looked at once its last attempt is this old (RECONCILE_AFTER_MINUTES). */
  reconcileAfterMs: number;
  /** At most this many purchases per run (RECONCILE_BATCH). */
  batch: number;
  now?: () => number;
}

export interface ReconcileReport {
  /** Purchases the index named. */
  looked: number;
  reconciled: number;
  /** The cart is Active: nothing was bought (PurchaseNotPlaced). */
  notPlaced: number;
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

/** Partner Center requests a look takes at most (the cart, and an Ordered cart's checkout asked again). */
const READS = 2;
type Result = 'reconciled' | 'not-placed' | 'needs-attention' | 'settled' | 'skipped' | 'failed' | 'deferred';
const COUNTED = { 'needs-attention': 'needsAttention', 'not-placed': 'notPlaced' } as const;

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
    notPlaced: 0,
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
    report[result === 'needs-attention' || result === 'not-placed' ? COUNTED[result] : result] += 1;
  }
  logger.info('reconciler run', { ...report });
  return report;
}

async function reconcileOne(
  owner: string,
  cutoff: number,
  deps: ReconcilerDependencies,
  ctx: ServiceContext,
): Promise<Result> {
  const now = deps.now ?? Date.now;
  // The index is eventually consistent and keeps only keys: the journal itself says what is true now.
  const journal = await deps.journals.read(owner);
  const entry = journal?.entry;
  if (!entry?.unresolved || entry.lastSentAt === undefined || entry.lastSentAt >= cutoff) return 'skipped';
  const lastSentAt = entry.lastSentAt;
  const command = entry.command;
  // Recorded before anything is published, on the condition that no checkout was sent since the journal was read: a
  // retry under way meanwhile owns the outcome, and nothing is published that it could contradict.
  const record = async (resolution: Omit<Resolution, 'at'>) => {
    const recorded = await deps.journals.resolve(owner, lastSentAt, { ...resolution, at: now() });
    if (!recorded) logger.warn('an attempt was sent since the reconciler looked; its result is left to that attempt');
    return recorded;
  };

  if (!command || ownerOf(scopeOf(command)) !== owner) {
    return attention(deps, owner, entry, command, record, {
      state: 'unreadable',
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
  const cartId = entry.cart?.id ?? (command.input as { cartId?: string } | undefined)?.cartId;
  if (cartId === undefined) {
    return attention(deps, owner, entry, command, record, {
      state: 'unreadable',
      detail: 'No cart is recorded for this purchase, so what its checkout placed cannot be asked again.',
    });
  }
  if (!(await deps.budget.take(READS))) return 'deferred';
  let outcome: CartOutcome;
  try {
    outcome = await resolveCart(ctx, command.customerId, cartId);
  } catch (error) {
    logger.warn('Partner Center could not tell yet; looked at again next run', { reason: (error as Error).message });
    return 'failed';
  }
  if (outcome.state === 'placed') {
    const orderIds = (outcome.result.orders ?? []).map((order) => order.id);
    if (
      !(await record({
        outcome: 'found',
        orderIds,
        detail: `Cart ${cartId} is Ordered; its checkout result was asked again.`,
      }))
    )
      return 'skipped';
    await deps.publish([
      {
        detailType: 'PurchaseReconciled',
        detail: { ...describe(command, entry), cartId, orderIds, result: outcome.result },
      },
    ]);
    await deps.tracking?.start({
      customerId: command.customerId,
      orderIds,
      operation: command.operation,
      idempotencyKey: command.idempotencyKey,
    });
    logger.warn('purchase of unknown outcome reconciled', { orderIds });
    return 'reconciled';
  }
  if (outcome.state === 'not-placed') {
    const detail = `Cart ${cartId} is still Active: nothing was bought. A retry with the same key checks it out; otherwise it expires${
      outcome.cart.expirationTimestamp ? ` at ${outcome.cart.expirationTimestamp}` : ' 7 days after its creation'
    }.`;
    if (!(await record({ outcome: 'not-placed', detail }))) return 'skipped';
    await deps.publish([{ detailType: 'PurchaseNotPlaced', detail: { ...describe(command, entry), cartId, detail } }]);
    return 'not-placed';
  }
  return attention(deps, owner, entry, command, record, outcome);
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
  record: (resolution: Omit<Resolution, 'at'>) => Promise<boolean>,
  verdict: Extract<CartOutcome, { state: 'unreadable' }>,
) {
  if (!(await record({ outcome: 'unreadable', detail: verdict.detail }))) return 'skipped' as const;
  await deps.publish([
    {
      detailType: 'PurchaseNeedsAttention',
      detail: {
        ...(command ? describe(command, entry) : { journal: owner, requestIds: entry.requestIds ?? [] }),
        ...(entry.cart ? { cartId: entry.cart.id } : {}),
        reason: verdict.state,
        detail: verdict.detail,
      },
    },
  ]);
  logger.error('purchase of unknown outcome needs attention', { reason: verdict.state });
  return 'needs-attention' as const;
}
