// When a purchase can still be undone, known before anything is sent. Partner Center's rules (new-commerce
// cancellation policy; cancel-an-azure-marketplace-subscription): a subscription can be cancelled with a prorated
// refund within 7 days of its purchase or renewal; seats can be removed within 7 days of when they were added.
// Where the answer comes from, best first:
//   1. Partner Center's own fields on the Subscription: `cancellationAllowedUntilDate` ("the last date that the partner
//      can cancel ... for the given term"; null when it cannot be) and `refundableQuantity` (seats "eligible for
//      reduction at the time of the request", each batch with its `allowedUntilDateTime`);
//   2. derived from the subscription's dates when those fields are absent: the current term started at the latest of
//      `creationDate`, `effectiveStartDate` and the renewal implied by `commitmentEndDate` and `termDuration`; its
//      window is 168 hours from there. Seats are then counted as bought with the term (every seat, until the term's
//      window closes): seats added mid-term have later windows that only `refundableQuantity` tells, so without it a
//      reduction after the term's window is refused rather than guessed (docs/after-purchase.md).
import type { Subscription } from './schemas.js';

/** 7 days, counted as the tools in the field count them: 168 hours. */
export const REFUND_WINDOW_MS = 7 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

export interface Windows {
  /**
   * When the subscription's refund window closes (or closed: `cancellable` says which); null when nothing tells. Partner
   * Center gives null for a subscription it will not cancel: the window is then named from the subscription's dates.
   */
  refundableUntil: string | null;
  cancellable: boolean;
  /** Seats that can be removed now, and until when each batch can. */
  removableSeats: number;
  seatWindows: { quantity: number; until: string }[];
  source: 'partner-center' | 'derived';
  /** When the next term starts (00:00 UTC the day after the term's last day), if the subscription renews. */
  renewsOn: string | null;
}

const time = (value: string | null | undefined) => {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
};

/** `P1M`/`P1Y`/`P3Y` back from the day after the term's last day: when the current term began. */
function termStartFrom(commitmentEnd: number, duration: string): number | undefined {
  const match = /^P(\d+)([MY])$/.exec(duration);
  if (!match) return undefined;
  const months = Number(match[1]) * (match[2] === 'Y' ? 12 : 1);
  const next = new Date(commitmentEnd + DAY_MS);
  return Date.UTC(next.getUTCFullYear(), next.getUTCMonth() - months, next.getUTCDate());
}

/** The start of the current term, from the subscription's dates. */
export function termStart(subscription: Subscription): number | undefined {
  const candidates = [time(subscription.creationDate), time(subscription.effectiveStartDate)];
  const end = time(subscription.commitmentEndDate);
  if (end !== undefined && subscription.termDuration) candidates.push(termStartFrom(end, subscription.termDuration));
  const known = candidates.filter((value): value is number => value !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function windowsOf(subscription: Subscription, now: number): Windows {
  const active = (subscription.status ?? '').toLowerCase() === 'active';
  const end = time(subscription.commitmentEndDate);
  const renewsOn = active && subscription.autoRenewEnabled && end !== undefined ? iso(end + DAY_MS) : null;
  const given = Object.hasOwn(subscription, 'cancellationAllowedUntilDate');
  const start = termStart(subscription);
  const derived = start === undefined ? undefined : start + REFUND_WINDOW_MS;
  const stated = given ? time(subscription.cancellationAllowedUntilDate) : undefined;
  const until = stated ?? derived;
  // Partner Center's word wins: null there means it will not cancel, whatever the dates say.
  const cancellable = active && (given ? stated !== undefined && stated > now : until !== undefined && until > now);
  const refundable = subscription.refundableQuantity;
  let seatWindows: Windows['seatWindows'];
  if (refundable?.details) {
    seatWindows = refundable.details.flatMap((detail) => {
      const at = time(detail.allowedUntilDateTime);
      return at !== undefined && at > now && detail.quantity > 0 ? [{ quantity: detail.quantity, until: iso(at) }] : [];
    });
  } else if (cancellable && until !== undefined) {
    seatWindows = [{ quantity: subscription.quantity, until: iso(until) }];
  } else seatWindows = [];
  if (!active) seatWindows = [];
  return {
    refundableUntil: until === undefined ? null : iso(until),
    cancellable,
    removableSeats: seatWindows.reduce((sum, window) => sum + window.quantity, 0),
    seatWindows,
    source: given || refundable?.details ? 'partner-center' : 'derived',
    renewsOn,
  };
}
