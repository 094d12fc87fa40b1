// A guard's decision, started early. `perform` (commands.ts) starts the remote reads the guards of a purchase decide
// by — the policy decision, the duplicate record — at once and beside the idempotency lock, instead of one after the
// other once the lock is taken. None of them buys anything; each guard still awaits its own answer,
// in the guards' order, when the purchase runs, and judges only then (after the journal said whether the purchase
// was already sent): so nothing is sent to buy before every guard allowed it, and a refusal is today's refusal. An
// answer never asked for (a replay, a key in progress, a store that failed) is dropped unread, and nothing logs it.
import type { ServiceContext } from './model.js';

export interface Early<T> {
  /** Starts deciding for `ctx`, unless that is under way. */
  start(ctx: ServiceContext): void;
  /** The decision for `ctx`: the one started for it (taken once), or a new one. */
  take(ctx: ServiceContext): Promise<T>;
}

export function early<T>(decide: (ctx: ServiceContext) => Promise<T>): Early<T> {
  let started: { ctx: ServiceContext; answer: Promise<T> } | undefined;
  const begin = (ctx: ServiceContext) => {
    const answer = new Promise<T>((resolve) => resolve(decide(ctx)));
    // Dropped unread when the purchase never runs: not an unhandled rejection. Whoever takes it still sees the error.
    answer.catch(() => undefined);
    return answer;
  };
  return {
    start(ctx) {
      if (started?.ctx !== ctx) started = { ctx, answer: begin(ctx) };
    },
    take(ctx) {
      const taken = started?.ctx === ctx ? started.answer : begin(ctx);
      // Once: a command run again (by whoever runs it twice) decides again, as it did before.
      started = undefined;
      return taken;
    },
  };
}
