// The possible-duplicate guard: a purchase whose lines equal those of a purchase placed for the same customer within
// DUPLICATE_WINDOW_HOURS under another key is refused 409 `possible-duplicate`, naming the earlier key, its orders and
// when, unless the caller says so (Allow-Duplicate: true, allowDuplicate). Decided from this service's own records
// (recent.ts), never from Partner Center's orders list, which lags up to 15 minutes. Any caller's earlier purchase
// counts: a second person buying the same thing is the classic mistake. A dry run reports it (`duplicate`).
//
// Not a lock: two keys sending the same lines at the same moment both pass (each reads before the other wrote).
// A purchase resumed after an attempt was sent is not judged again (as the pre-flight), and neither is a replay.

import { storeCall } from '../errors.js';
import { alreadySent } from '../exactly-once/already-sent.js';
import { logger } from '../log.js';
import { type Early, early } from '../purchase/early.js';
import { afterAnswer, type Command } from '../purchase/model.js';
import type { ServiceContext, ServiceResult } from '../services/context.js';
import { PossibleDuplicateError } from './errors.js';
import { canonicalLines, purchaseDigest } from './lines.js';
import type { RecentPurchase, RecentPurchases } from './recent.js';

export interface DuplicateGuardOptions {
  recent: RecentPurchases;
  /** DUPLICATE_WINDOW_HOURS in ms (the guard is not built when it is 0). */
  windowMs: number;
  now?: () => number;
}

export interface DuplicateCheck {
  caller: string;
  idempotencyKey?: string;
  idempotencyKeyPath: string;
  allowDuplicate?: boolean;
}

/** Where the caller's "I mean it" goes, next to its key. */
export const allowDuplicatePath = (idempotencyKeyPath: string) =>
  idempotencyKeyPath.startsWith('/headers/')
    ? '/headers/allow-duplicate'
    : `${idempotencyKeyPath.slice(0, idempotencyKeyPath.lastIndexOf('/'))}/allowDuplicate`;

/** The order ids a purchase's answer names (an order, an add-on's order, a checkout's orders). */
function orderIdsOf(body: unknown): string[] {
  const b = body as { id?: unknown; lineItems?: unknown; orders?: unknown; checkout?: { orders?: unknown } } | null;
  const orders = (b?.checkout?.orders ?? b?.orders) as { id?: unknown }[] | undefined;
  if (Array.isArray(orders)) return orders.map((o) => o?.id).filter((id): id is string => typeof id === 'string');
  return typeof b?.id === 'string' && Array.isArray(b.lineItems) ? [b.id] : [];
}

export class DuplicateGuard {
  constructor(readonly options: DuplicateGuardOptions) {}

  get windowHours(): number {
    return this.options.windowMs / 3_600_000;
  }

  guard(command: Command, check: DuplicateCheck): Command {
    const lines = canonicalLines(command);
    if (!lines) return command;
    const digest = purchaseDigest(command.customerId, lines);
    // Read beside the idempotency lock and the policy decision (purchase/early.ts), judged once the purchase runs.
    const latest = early(() => storeCall(() => this.options.recent.read(command.customerId, digest)));
    return {
      ...command,
      start: (ctx) => {
        latest.start(ctx);
        command.start?.(ctx);
      },
      run: (ctx) => this.run(command, digest, check, ctx, latest),
    };
  }

  private async run(
    command: Command,
    digest: string,
    check: DuplicateCheck,
    ctx: ServiceContext,
    latest: Early<RecentPurchase | undefined>,
  ) {
    const now = this.options.now ?? Date.now;
    if (!ctx.dryRun && (await alreadySent(command, ctx))) return this.recorded(command, digest, check, ctx);
    const earlier = await latest.take(ctx);
    const same = earlier && earlier.caller === check.caller && earlier.idempotencyKey === check.idempotencyKey;
    const duplicate = earlier && !same && earlier.at > now() - this.options.windowMs ? earlier : undefined;
    if (duplicate && ctx.dryRun) {
      const result = await command.run(ctx);
      return { ...result, body: { ...(result.body as object), duplicate: this.report(duplicate, check) } };
    }
    if (duplicate && !check.allowDuplicate) {
      throw new PossibleDuplicateError(duplicate, allowDuplicatePath(check.idempotencyKeyPath));
    }
    if (duplicate)
      logger.info('possible duplicate bought as the caller asked', { earlierKey: duplicate.idempotencyKey });
    return ctx.dryRun ? command.run(ctx) : this.recorded(command, digest, check, ctx);
  }

  /** Runs the purchase and, once it placed orders, records it as the latest of its lines. */
  private async recorded(command: Command, digest: string, check: DuplicateCheck, ctx: ServiceContext) {
    const result: ServiceResult = await command.run(ctx);
    const orderIds = orderIdsOf(result.body);
    if (result.status < 300 && orderIds.length > 0) {
      const at = (this.options.now ?? Date.now)();
      const write = this.options.recent
        .write(
          command.customerId,
          digest,
          {
            idempotencyKey: check.idempotencyKey ?? '',
            caller: check.caller,
            operation: command.operation,
            orderIds,
            at,
          },
          at + this.options.windowMs,
        )
        .catch((error: unknown) => {
          // The purchase was placed: a record that could not be written only weakens the next comparison.
          logger.warn('recent purchase not recorded; the possible-duplicate guard will not see it', { error });
        });
      // Beside the stored outcome's write; on record before the caller has its answer all the same.
      await afterAnswer(ctx, write);
    }
    return result;
  }

  private report(earlier: RecentPurchase, check: DuplicateCheck) {
    return {
      verdict: check.allowDuplicate ? 'allowed' : 'possible-duplicate',
      earlier: {
        idempotencyKey: earlier.idempotencyKey,
        caller: earlier.caller,
        orderIds: earlier.orderIds,
        at: new Date(earlier.at).toISOString(),
      },
      detail: check.allowDuplicate
        ? 'The same lines were bought within the duplicate window under another key; a real request would buy them again, as asked.'
        : `The same lines were bought within the duplicate window (${this.windowHours} h) under another key: a real request would be refused with 409 possible-duplicate unless it says Allow-Duplicate: true.`,
    };
  }
}
