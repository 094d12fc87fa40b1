// When a purchase can still be undone, from the Subscription resource alone (functions/shared/subscriptions/windows.ts):
// Partner Center's own fields win; without them the window is derived from the dates, never guessed wider.
import { describe, expect, it } from 'vitest';
import type { Subscription } from '../../functions/shared/subscriptions/schemas.js';
import { REFUND_WINDOW_MS, termStart, windowsOf } from '../../functions/shared/subscriptions/windows.js';

const HOUR = 3_600_000;
const bought = Date.parse('2026-03-10T09:30:00Z');
const base: Subscription = {
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  quantity: 10,
  status: 'active',
  autoRenewEnabled: true,
  creationDate: new Date(bought).toISOString(),
  effectiveStartDate: new Date(bought).toISOString(),
  commitmentEndDate: '2027-03-09T00:00:00Z',
  termDuration: 'P1Y',
};

describe('refund windows', () => {
  it('derives the window from the dates when Partner Center gives none: 168 hours from the purchase', () => {
    const windows = windowsOf(base, bought + 100 * HOUR);
    expect(windows).toMatchObject({
      cancellable: true,
      refundableUntil: new Date(bought + REFUND_WINDOW_MS).toISOString(),
      removableSeats: 10,
      source: 'derived',
      renewsOn: '2027-03-10T00:00:00.000Z',
    });
    expect(windowsOf(base, bought + REFUND_WINDOW_MS + 1)).toMatchObject({ cancellable: false, removableSeats: 0 });
  });

  it('after a renewal, counts from the renewal (commitmentEndDate and termDuration), not the first purchase', () => {
    const renewed = { ...base, commitmentEndDate: '2028-03-09T00:00:00Z' };
    expect(termStart(renewed)).toBe(Date.parse('2027-03-10T00:00:00Z'));
    expect(windowsOf(renewed, Date.parse('2027-03-12T00:00:00Z'))).toMatchObject({ cancellable: true });
    expect(windowsOf(renewed, Date.parse('2027-03-18T00:00:00Z'))).toMatchObject({ cancellable: false });
  });

  it("takes Partner Center's fields over the dates: cancellationAllowedUntilDate (null: never) and refundableQuantity", () => {
    const now = bought + 24 * HOUR;
    expect(windowsOf({ ...base, cancellationAllowedUntilDate: null }, now)).toMatchObject({
      cancellable: false,
      source: 'partner-center',
      // The closed window is still named, from the dates.
      refundableUntil: new Date(bought + REFUND_WINDOW_MS).toISOString(),
    });
    const seats = windowsOf(
      {
        ...base,
        cancellationAllowedUntilDate: '2026-03-17T09:30:00Z',
        refundableQuantity: {
          totalQuantity: 5,
          details: [
            { quantity: 3, allowedUntilDateTime: '2026-03-12T00:00:00Z' },
            { quantity: 2, allowedUntilDateTime: '2026-03-10T00:00:00Z' },
          ],
        },
      },
      now,
    );
    expect(seats).toMatchObject({ cancellable: true, removableSeats: 3, source: 'partner-center' });
    expect(seats.seatWindows).toEqual([{ quantity: 3, until: '2026-03-12T00:00:00.000Z' }]);
  });

  it('has nothing to undo for a subscription that is not active, and no renewal without auto-renew', () => {
    expect(windowsOf({ ...base, status: 'deleted' }, bought + HOUR)).toMatchObject({
      cancellable: false,
      removableSeats: 0,
      renewsOn: null,
    });
    expect(windowsOf({ ...base, autoRenewEnabled: false }, bought + HOUR).renewsOn).toBeNull();
  });
});
