// The subscription operations' refusals. Each is raised before anything is sent to Partner Center.
import type { FieldError } from '../errors.js';

/** What a refused cancel or reduction names: its window, and what can be done instead. */
export interface RefundWindowProblem {
  /** `cancel` (the subscription's window) or `reduce` (the windows of the seats). */
  kind: 'cancel' | 'reduce';
  refundableUntil: string | null;
  /** For a reduction: how many seats can still be removed now, and until when each batch can. */
  removableSeats?: number;
  seatWindows?: { quantity: number; until: string }[];
  requestedSeats?: number;
  /** Where the windows were read from: Partner Center's own fields, or derived from the subscription's dates. */
  source: 'partner-center' | 'derived';
}

/** 422 `outside-refund-window`: Partner Center would refuse it ("the API will throw an error"). */
export class OutsideRefundWindowError extends Error {
  override readonly name = 'OutsideRefundWindowError';
  constructor(
    readonly window: RefundWindowProblem,
    readonly path: string,
  ) {
    super(
      window.kind === 'cancel'
        ? `The subscription's refund window ${window.refundableUntil ? `closed at ${window.refundableUntil}` : 'is closed'}: it can no longer be cancelled.`
        : `Only ${window.removableSeats ?? 0} seat(s) can be removed now, not ${window.requestedSeats}: seats can be removed within 7 days of when they were added.`,
    );
  }
}

/** 422 `subscription-state`: the subscription is not in a state the change applies to (cancelled, auto-renew off…). */
export class SubscriptionStateError extends Error {
  override readonly name = 'SubscriptionStateError';
  constructor(
    detail: string,
    readonly errors: FieldError[],
  ) {
    super(detail);
  }
}
