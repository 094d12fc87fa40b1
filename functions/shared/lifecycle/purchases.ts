// `GET /purchases/{idempotencyKey}`: what became of the purchases a caller sent with a key, so that a caller who lost
// an answer can ask instead of guessing. Scoped like the key itself: only the caller's own purchases are found (the
// caller is computed as for the purchase, caller.ts), one per operation and customer the key was used for.
//   in-progress  a request with the key is running now
//   succeeded    placed: the stored answer, or the reconciler found it (`reconciled: true`); the order ids
//   refused      Partner Center (or this service) refused it: the stored problem; nothing was placed
//   not-placed   nothing was placed and nothing final is stored (e.g. throttled): a retry with the key buys
//   unknown      an attempt was sent and nobody knows yet whether it placed the purchase: retry with the key (it
//                looks before it sends), or wait for the reconciler (`reconciliation` once it has looked)
// Only purchases that reached Partner Center have a journal: one refused before anything was sent (validation, the
// catalog pre-flight, the purchase policy) is not listed; retrying it with its key replays its answer.
import type { PurchaseJournals, StoredJournal } from '../exactly-once/journals.js';
import { scopeOf } from '../exactly-once/records.js';
import type { IdempotencyStore } from '../idempotency.js';
import { ordersOf } from './tracking.js';

export const PURCHASE_STATES = ['in-progress', 'succeeded', 'refused', 'not-placed', 'unknown'] as const;
export type PurchaseState = (typeof PURCHASE_STATES)[number];

export interface PurchaseView {
  operation: string;
  customerId: string;
  state: PurchaseState;
  /** The orders it placed (succeeded). */
  orderIds?: string[];
  /** The stored answer's status and body (succeeded: the resource; refused: the problem). */
  status?: number;
  result?: unknown;
  problem?: unknown;
  /** Found by the reconciler, not answered to a caller. */
  reconciled?: boolean;
  /** What the reconciler concluded, when it looked. */
  reconciliation?: { outcome: string; at: string; detail: string; candidates?: string[] };
  cartId?: string;
  firstSentAt?: string;
  lastSentAt?: string;
  /** Attempts sent to Partner Center with this key (their MS-RequestIds). */
  requestIds: string[];
  detail: string;
}

export interface PurchasesAnswer {
  idempotencyKey: string;
  purchases: PurchaseView[];
}

const iso = (ms: number) => new Date(ms).toISOString();

async function view(journal: StoredJournal, store: Pick<IdempotencyStore, 'peek'>): Promise<PurchaseView | undefined> {
  const { entry } = journal;
  const command = entry.command;
  if (!command) return undefined;
  const state = await store.peek({
    scope: scopeOf(command),
    // A purchase too large for its journal to keep its input is read without comparing it (records.ts).
    fingerprint:
      command.input === undefined
        ? undefined
        : { operation: command.operation, customerId: command.customerId, input: command.input },
  });
  const cartId = (entry.cart as { id?: unknown } | undefined)?.id;
  const base = {
    operation: command.operation,
    customerId: command.customerId,
    ...(typeof cartId === 'string' ? { cartId } : {}),
    ...(entry.firstSentAt === undefined ? {} : { firstSentAt: iso(entry.firstSentAt) }),
    ...(entry.lastSentAt === undefined ? {} : { lastSentAt: iso(entry.lastSentAt) }),
    requestIds: entry.requestIds ?? [],
  };
  const resolution = entry.resolution;
  const reconciliation = resolution && {
    reconciliation: {
      outcome: resolution.outcome,
      at: iso(resolution.at),
      detail: resolution.detail,
    },
  };
  if (state.idempotency === 'replay' && state.outcome) {
    const { status, body } = state.outcome;
    if (status < 400) {
      return {
        ...base,
        state: 'succeeded',
        orderIds: ordersOf(command.operation, body),
        status,
        result: body,
        ...(state.outcome.reconciled ? { reconciled: true } : {}),
        detail: 'Placed; retrying with the key replays this answer.',
      };
    }
    return {
      ...base,
      state: 'refused',
      status,
      problem: body,
      detail:
        'Refused: nothing was placed. Retrying with the key replays this answer; use a new key for a new purchase.',
    };
  }
  if (state.idempotency === 'in-progress') {
    return {
      ...base,
      state: 'in-progress',
      detail: 'A request with this key is running now: ask again in a few seconds.',
    };
  }
  if (resolution?.outcome === 'found') {
    return {
      ...base,
      state: 'succeeded',
      orderIds: resolution.orderIds ?? [],
      reconciled: true,
      ...reconciliation,
      detail:
        "Placed: the answer was lost, and the reconciler asked the cart's checkout result again. A retry with the key answers it too.",
    };
  }
  if (resolution?.outcome === 'not-placed') {
    return {
      ...base,
      state: 'not-placed',
      ...reconciliation,
      detail: `${resolution.detail}`,
    };
  }
  if (entry.placed === 'maybe') {
    return {
      ...base,
      state: 'unknown',
      ...reconciliation,
      detail: resolution
        ? 'The reconciler could not tell whether this purchase was placed: a person should look (PurchaseNeedsAttention). A retry with the key checks out the same cart again, which places it at most once.'
        : 'A checkout was sent and its outcome is not known yet. Retry with the same key (it checks out the same cart again, which places it at most once), or wait for the reconciler.',
    };
  }
  return {
    ...base,
    state: 'not-placed',
    detail: 'Nothing was placed and no final answer is stored: retrying with the key sends the purchase.',
  };
}

/** Every purchase the caller sent with the key; an empty list when there is none. */
export async function describePurchases(
  deps: { journals: PurchaseJournals; idempotency: Pick<IdempotencyStore, 'peek'> },
  caller: string,
  idempotencyKey: string,
): Promise<PurchasesAnswer> {
  const journals = await deps.journals.ofKey(caller, idempotencyKey);
  const views = await Promise.all(journals.map((journal) => view(journal, deps.idempotency)));
  return { idempotencyKey, purchases: views.filter((v): v is PurchaseView => v !== undefined) };
}
