// One purchase step, placed at most once whatever Partner Center does with MS-RequestId. Every attempt is on record
// before it is sent; after an attempt whose outcome is unknown nothing is sent again until Partner Center has been
// read: what the attempt placed is adopted as the success it was, and only when nothing is found does the purchase
// go again (with the same MS-RequestId). An attempt that got no answer may still be running at Partner Center, so it
// is not sent again before `settleMs` have passed since it left; until then the answer is "outcome unknown".
import type * as z from 'zod/mini';
import { AmbiguousAttemptError, OutcomeUnknownError, PartnerCenterError, UpstreamProtocolError } from '../errors.js';
import { logger } from '../log.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import { callOptions, type ServiceContext, sendFor } from '../services/context.js';
import type { JournalEntry, PurchaseRecords } from './records.js';

/** What a keyed purchase runs with: its records, and how pessimistic to be about Partner Center. */
export interface ExactlyOnce {
  records: PurchaseRecords;
  /** How long an attempt that got no answer may still be running at Partner Center (it is not re-sent before). */
  settleMs: number;
  /** How far Partner Center's clock (`creationDate`) may be behind ours. */
  skewMs: number;
  /** Pause between an ambiguous attempt and the next one within the same request. */
  retryDelayMs: number;
  /** Attempts within one request (the first included), as the client's own retries (4). */
  maxAttempts?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PurchaseStep<T> {
  step: string;
  request: PartnerCenterRequest;
  schema: z.ZodMiniType<T>;
  what: string;
  customerId: string;
  /** Looks for what an earlier attempt placed (created at or after `since`), claiming it for this key. */
  find(since: number, entry: JournalEntry): Promise<T | undefined>;
  /** What a placed result is claimed by (order ids, or `orderId#subscriptionId` for add-on lines). */
  claims(result: T): string[];
  /** Whether a 2xx says what was placed; one that does not is as unknown as no answer (default: every 2xx). */
  accept?(result: T): boolean;
  /**
   * A fingerprint of what is bought, for purchases another key could make identically (a new order's lines): this
   * key's attempt is announced under it while its outcome is not known (records.ts, `intents`).
   */
  intent?: string;
}

export interface Placed<T> {
  value: T;
  /** Found by reading Partner Center after an attempt whose answer was lost, not answered by this attempt. */
  reconciled: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Partner Center's own answer that an order of this request is already under way (800060). */
const inProgress = (error: PartnerCenterError) => error.status === 409;

export async function placeOnce<T>(ctx: ServiceContext, step: PurchaseStep<T>): Promise<Placed<T>> {
  const guard = ctx.exactlyOnce;
  if (!guard) return { value: await sendFor(ctx, step.step, step.request, step.schema, step.what), reconciled: false };
  const now = guard.now ?? Date.now;
  const pause = guard.sleep ?? sleep;
  const { journal, claim, intents } = guard.records;
  let announced = false;
  const beforeAttempt = async () => {
    if (step.intent && !announced) {
      await intents.announce(step.customerId, step.intent, now());
      announced = true;
    }
    await journal.sending(requestId, now());
  };
  // The outcome is known (placed and claimed, or refused): other keys need no longer wait for this one.
  const release = async () => {
    if (step.intent) await intents.release(step.customerId, step.intent).catch(logStoreError);
  };
  const requestId = callOptions(ctx, step.step, step.request.method).requestId ?? '';
  let entry = await journal.read();

  for (let round = 1; ; round++) {
    if (entry.placed === 'maybe') {
      const found = await step.find((entry.firstSentAt ?? now()) - guard.skewMs, entry);
      if (found !== undefined) {
        logger.warn('purchase found after an attempt whose outcome was unknown', {
          step: step.step,
          requestIds: entry.requestIds,
          firstSentAt: entry.firstSentAt,
        });
        await release();
        await settle(journal);
        return { value: found, reconciled: true };
      }
      // Nothing found yet is not nothing placed: an attempt may still be running at Partner Center, and its orders
      // list may lag behind what it has placed (800060: "check your order history … in few minutes"), whether or not
      // an answer came back (a gateway's 5xx, a cut body). Nothing is sent again before the attempt has settled.
      // Only an attempt Partner Center refused (`answered`: throttled, or the request refused) is known to have
      // placed nothing, and it is the latest: the one before it has settled, or it would not have been sent.
      const settling = entry.answered ? 0 : (entry.lastSentAt ?? 0) + guard.settleMs - now();
      if (settling > 0) {
        throw new OutcomeUnknownError(
          Math.ceil(settling / 1000),
          'An earlier attempt with this key may have placed the purchase, and Partner Center shows none from it yet.',
        );
      }
    }
    if (now() >= ctx.deadline) {
      throw new OutcomeUnknownError(
        1,
        'A purchase was sent with this key and there was no time left to find out whether it was placed.',
      );
    }
    // Whether an earlier attempt may have placed the purchase: then a refusal now does not prove nothing was bought.
    const afterUnknown = entry.placed === 'maybe';
    try {
      const value = await sendFor(ctx, step.step, step.request, step.schema, step.what, { beforeAttempt });
      if (step.accept && !step.accept(value)) {
        throw new UpstreamProtocolError(
          { requestId, correlationId: ctx.correlationId },
          200,
          `Partner Center answered without saying what ${step.what} placed.`,
        );
      }
      await claimAll(step, value, claim);
      await release();
      await settle(journal);
      return { value, reconciled: false };
    } catch (error) {
      if (error instanceof AmbiguousAttemptError || error instanceof UpstreamProtocolError) {
        const answered = error instanceof UpstreamProtocolError || error.answered;
        if (round >= (guard.maxAttempts ?? 4)) {
          // Out of attempts: a caller's retry with the key looks for this one first. A 5xx says so as a 502.
          if (error instanceof AmbiguousAttemptError && error.upstream) throw error.upstream;
          throw new OutcomeUnknownError(
            5,
            'A purchase was sent with this key and its outcome is not known yet.',
            error.ids,
            error,
          );
        }
        entry = await journal.read();
        logger.warn('purchase outcome unknown; Partner Center is read before anything is sent again', {
          step: step.step,
          reason: error instanceof AmbiguousAttemptError ? error.reason : 'unexpected body',
          answered,
          round,
        });
        const wait = guard.retryDelayMs * 3 ** Math.min(round - 1, 4) * (0.5 + Math.random() / 2);
        if (now() + wait < ctx.deadline) await pause(wait);
        continue;
      }
      if (error instanceof PartnerCenterError && !inProgress(error)) {
        if (!afterUnknown) {
          // Partner Center refused the only attempt there was: nothing was placed.
          await journal.answered('no').catch(logStoreError);
          await release();
          throw error;
        }
        // A refusal of an attempt after one whose outcome was unknown: "maybe" stays on record. Throttling says
        // nothing about the earlier attempt; a refusal of the request stands only once Partner Center, read again,
        // still shows nothing from it.
        await journal.answered('maybe').catch(logStoreError);
        if (error.status === 429) {
          throw new OutcomeUnknownError(
            error.retryAfterSeconds ?? 5,
            'Partner Center is throttling, and an earlier attempt with this key may have placed the purchase.',
            error.ids,
            error,
          );
        }
        const found = await step.find((entry.firstSentAt ?? now()) - guard.skewMs, entry);
        await release();
        if (found !== undefined) {
          await settle(journal);
          return { value: found, reconciled: true };
        }
        throw error;
      }
      // Anything else after an attempt that may have placed the purchase (credentials refused at a re-read, the
      // deadline, Partner Center's own "order in progress") is no refusal: the outcome is not known yet.
      if (entry.placed === 'maybe') {
        const ids = (error as { ids?: OutcomeUnknownError['ids'] }).ids;
        throw new OutcomeUnknownError(
          5,
          'A purchase was sent with this key and its outcome is not known yet.',
          ids,
          error,
        );
      }
      throw error;
    }
  }
}

async function claimAll<T>(step: PurchaseStep<T>, value: T, claim: PurchaseRecords['claim']) {
  // A purchase answered to this key is this key's: claimed so that no other key's reconciliation adopts it. A failure
  // here does not undo the purchase; it is logged.
  for (const id of step.claims(value)) {
    const mine = await claim(step.customerId, id).catch((error: unknown) => {
      logStoreError(error);
      return true;
    });
    if (!mine)
      logger.error('a purchase answered to this key was already claimed by another key', { step: step.step, id });
  }
}

/**
 * The outcome is known: out of the unresolved index (records.ts). A failure is logged, not thrown: the purchase was
 * placed, and the reconciler finds its stored outcome and drops it from the index then.
 */
async function settle(journal: PurchaseRecords['journal']) {
  await journal.settled?.().catch(logStoreError);
}

function logStoreError(error: unknown) {
  logger.error('purchase record not updated', { storeError: (error as Error)?.name });
}
