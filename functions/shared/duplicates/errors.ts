import type { RecentPurchase } from './recent.js';

/**
 * The same lines were bought for the customer under another key within the window: most likely the same purchase
 * sent twice (a retry with a new key, a second person). 409 `possible-duplicate`, not stored under the key, so the same
 * request with `Allow-Duplicate: true` (`allowDuplicate`) buys it.
 */
export class PossibleDuplicateError extends Error {
  override readonly name = 'PossibleDuplicateError';
  constructor(
    readonly earlier: RecentPurchase,
    /** Where the caller says "I mean it": `/headers/allow-duplicate`, `/detail/allowDuplicate`, `/allowDuplicate`. */
    readonly path: string,
  ) {
    super(
      `The same lines were bought for this customer ${new Date(earlier.at).toISOString()} under Idempotency-Key "${earlier.idempotencyKey}" (orders: ${earlier.orderIds.join(', ') || 'none listed'}).`,
    );
  }
}
