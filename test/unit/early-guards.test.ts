// Issue 22 (warm path): the policy decision and the duplicate guard's read are asked for beside the idempotency lock
// (purchase/early.ts), not one after the other once the lock is taken. What must not change: nothing is sent to
// Partner Center before the lock is held, the journal read and every guard allowed it; a refusal is today's refusal
// (same problem, nothing sent, nothing written but the refusal as the key's outcome); a replay is answered from the
// stored outcome, with the early decision dropped unlogged; a purchase already sent is not judged again.
import { describe, expect, it } from 'vitest';
import { PREFLIGHT_OFF_OPTIONS, Preflight } from '../../functions/shared/catalog/preflight.js';
import { type CommandDependencies, perform } from '../../functions/shared/commands.js';
import { DuplicateGuard } from '../../functions/shared/duplicates/guard.js';
import type { RecentPurchase } from '../../functions/shared/duplicates/recent.js';
import type { Journal, JournalEntry } from '../../functions/shared/exactly-once/records.js';
import type { IdempotencyStore, Outcome } from '../../functions/shared/idempotency.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import type { PolicyEngine, Verdict } from '../../functions/shared/policy/engine.js';
import { checkoutCommand, createCartCommand } from '../../functions/shared/services/carts.js';
import { createOrderCommand } from '../../functions/shared/services/orders.js';
import { captureLogs } from '../support/logs.js';

const logs = captureLogs();
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const BASIC = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const order = { lineItems: [{ offerId: BASIC, quantity: 5, termDuration: 'P1Y' }], billingCycle: 'monthly' as const };

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}
/** Lets every pending promise callback run (the fakes answer through a few awaits). */
const settle = async () => {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
};

type Step = string;

/** Fakes for every dependency, recording the order of what happened. */
function world(options: {
  verdict: Verdict['decision'] | 'unavailable';
  journal?: JournalEntry;
  stored?: Outcome;
  earlier?: RecentPurchase;
  /** Partner Center answers the cart and its checkout (otherwise it cannot be reached). */
  places?: boolean;
  /** The journal's `settled` write waits for this. */
  settledGate?: Promise<void>;
}) {
  const steps: Step[] = [];
  const lock = gate();
  const decision = gate();
  const written: string[] = [];
  const sent: string[] = [];
  let asked = 0;
  const engine: PolicyEngine = {
    name: 'fake',
    entities: [],
    async authorize(query) {
      asked += 1;
      steps.push('policy asked');
      await decision.opened;
      steps.push('policy answered');
      if (options.verdict === 'unavailable') throw new Error('the engine is down');
      return query.requests.map(() => ({
        decision: options.verdict as Verdict['decision'],
        policies: options.verdict === 'deny' ? [{ id: 'no-test-purchases', reason: 'not in tests' }] : [],
        errors: [],
      }));
    },
  };
  const journal: Journal = {
    async read() {
      steps.push('journal read');
      return options.journal ?? {};
    },
    recordCart: async (cart) => {
      written.push('journal cart');
      return cart;
    },
    recordCartSending: async (cart) => {
      written.push('journal cart sending');
      return cart;
    },
    replaceCart: async (_, cart) => cart,
    sending: async () => {
      written.push('journal sending');
    },
    refused: async () => {
      written.push('journal refused');
    },
    settled: async () => {
      await options.settledGate;
      written.push('journal settled');
    },
  };
  const store: IdempotencyStore = {
    journal: () => journal,
    peek: async () => ({ idempotency: 'new' }),
    async run(_call, work) {
      steps.push('lock asked');
      await lock.opened;
      steps.push('lock taken');
      if (options.stored) return { ...options.stored, replayed: true };
      const outcome = await work();
      written.push(`outcome ${outcome.status}`);
      // Powertools' own write of the outcome takes a round trip.
      await new Promise((resolve) => setImmediate(resolve));
      written.push('outcome written');
      return { ...outcome, replayed: false };
    },
  };
  const deps: CommandDependencies = {
    partnerCenter: {
      send: async (request, call) => {
        await call.purchase?.beforeAttempt();
        steps.push(`sent ${request.method} ${request.path}`);
        sent.push(request.path);
        if (!options.places) throw new Error('no Partner Center in this test');
        const ids = { requestId: 'r', correlationId: 'c' };
        return request.path.endsWith('/checkout')
          ? { status: 200, ids, attempts: 1, body: { orders: [{ id: 'order-1', lineItems: [] }], orderErrors: [] } }
          : { status: 201, ids, attempts: 1, body: { id: 'cart-1', status: 'Active', lineItems: [] } };
      },
      describe: () => {
        throw new Error('not a dry run');
      },
    },
    idempotency: store,
    requireIdempotencyKey: true,
    exactlyOnce: { retryDelayMs: 1 },
    policy: new PurchasePolicy(engine),
    preflight: new Preflight(PREFLIGHT_OFF_OPTIONS),
    duplicates: new DuplicateGuard({
      windowMs: 3_600_000,
      recent: {
        async read() {
          steps.push('duplicate read');
          return options.earlier;
        },
        async write() {
          written.push('recent purchase');
        },
      },
    }),
  };
  return { steps, lock, decision, written, sent, deps, asked: () => asked };
}

const options = (key = 'k-1') => ({
  caller: 'http:iam:test',
  idempotencyKey: key,
  idempotencyKeyPath: '/headers/idempotency-key',
  dryRun: false,
  correlationId: 'c-1',
  deadline: Date.now() + 20_000,
});

describe('the guards decide beside the idempotency lock', () => {
  it('the policy decision and the duplicate read are asked for while the lock is still being taken', async () => {
    const w = world({ verdict: 'allow' });
    const answer = perform(createOrderCommand(CUSTOMER, order), options(), w.deps);
    await settle();
    // On the code before issue 22 nothing was asked before the lock was taken.
    expect(w.steps).toContain('lock asked');
    expect(w.steps).toContain('policy asked');
    expect(w.steps).toContain('duplicate read');
    expect(w.steps).not.toContain('lock taken');
    w.lock.open();
    await settle();
    // The lock is held and the journal read, but the policy has not answered: nothing is sent.
    expect(w.steps).toContain('journal read');
    expect(w.sent).toEqual([]);
    w.decision.open();
    await answer.catch(() => undefined);
    const first = w.steps.findIndex((s) => s.startsWith('sent '));
    expect(first).toBeGreaterThan(w.steps.indexOf('policy answered'));
    expect(first).toBeGreaterThan(w.steps.indexOf('journal read'));
    expect(w.steps.indexOf('journal read')).toBeGreaterThan(w.steps.indexOf('lock taken'));
  });

  it('a denial answered before the lock is taken: 403 policy-denied once the lock is held, nothing sent, nothing written but the refusal as the key’s outcome', async () => {
    const w = world({ verdict: 'deny' });
    w.decision.open();
    const answer = perform(createOrderCommand(CUSTOMER, order), options(), w.deps);
    await settle();
    expect(w.steps).toContain('policy answered');
    expect(w.written).toEqual([]);
    w.lock.open();
    const outcome = await answer;
    expect(outcome).toMatchObject({
      status: 403,
      replayed: false,
      body: { type: expect.stringContaining('policy-denied') },
    });
    expect(w.sent).toEqual([]);
    expect(w.written).toEqual(['outcome 403', 'outcome written']);
  });

  it('a denial of a cart checkout: nothing sent, the same refusal', async () => {
    const w = world({ verdict: 'deny' });
    w.decision.open();
    w.lock.open();
    const outcome = await perform(
      createCartCommand(CUSTOMER, {
        lineItems: [{ catalogItemId: BASIC, quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' }],
        checkout: true,
      }),
      options(),
      w.deps,
    );
    expect(outcome.status).toBe(403);
    expect(w.sent).toEqual([]);
    expect(w.written).toEqual(['outcome 403', 'outcome written']);
  });

  it('a possible duplicate found beside the lock is refused as before: 409, nothing sent, nothing stored', async () => {
    const earlier = {
      idempotencyKey: 'k-0',
      caller: 'http:iam:test',
      operation: 'createOrder',
      orderIds: ['o-1'],
      at: Date.now(),
    };
    const w = world({ verdict: 'allow', earlier });
    w.decision.open();
    w.lock.open();
    const error = await perform(createOrderCommand(CUSTOMER, order), options(), w.deps).catch((e: unknown) => e);
    // 409 is not a final outcome (commands.ts): nothing is stored under the key, a retry is judged anew.
    expect((error as Error).name).toBe('PossibleDuplicateError');
    expect(w.sent).toEqual([]);
    expect(w.written).toEqual([]);
  });

  it('the policy refusal still comes first when the duplicate guard would also refuse', async () => {
    const earlier = {
      idempotencyKey: 'k-0',
      caller: 'http:iam:test',
      operation: 'createOrder',
      orderIds: ['o-1'],
      at: Date.now(),
    };
    const w = world({ verdict: 'deny', earlier });
    w.decision.open();
    w.lock.open();
    const outcome = await perform(createOrderCommand(CUSTOMER, order), options(), w.deps);
    expect(outcome.status).toBe(403);
  });

  it('a replay answers the stored outcome: the early decision is dropped, unlogged, even when it failed', async () => {
    for (const verdict of ['deny', 'unavailable'] as const) {
      const w = world({ verdict, stored: { status: 201, body: { id: 'order-1' } } });
      logs.clear();
      w.decision.open();
      w.lock.open();
      const outcome = await perform(createOrderCommand(CUSTOMER, order), options(), w.deps);
      await settle();
      expect(outcome).toEqual({ status: 201, body: { id: 'order-1' }, replayed: true });
      expect(w.asked()).toBeLessThanOrEqual(1);
      expect(w.steps).not.toContain('journal read');
      expect(logs.lines().filter((line) => /purchase policy/.test(line))).toEqual([]);
      expect(w.sent).toEqual([]);
    }
  });

  it('a purchase already sent under the key is not refused by the decision asked beside the lock', async () => {
    const w = world({
      verdict: 'deny',
      journal: { placed: 'maybe', cart: { id: 'cart-1' }, requestIds: ['r-1'] },
    });
    w.decision.open();
    w.lock.open();
    const outcome = await perform(createOrderCommand(CUSTOMER, order), options(), w.deps).catch((e: unknown) => e);
    // Not the 403: the recorded cart is checked out again (here Partner Center is unreachable).
    expect((outcome as { status?: number }).status).not.toBe(403);
    expect(w.sent.some((path) => path.endsWith('/carts/cart-1/checkout'))).toBe(true);
    expect(logs.lines().filter((line) => /"audit":"purchase-policy"/.test(line))).toEqual([]);
  });

  it('after the answer, the journal’s settled write and the duplicate record go beside the outcome’s own write; the answer waits for them', async () => {
    const settledGate = gate();
    const w = world({ verdict: 'allow', places: true, settledGate: settledGate.opened });
    w.decision.open();
    w.lock.open();
    let answered = false;
    const answer = perform(createOrderCommand(CUSTOMER, order), options(), w.deps).then((outcome) => {
      answered = true;
      return outcome;
    });
    await settle();
    // Before issue 22 the outcome was written only after `settled` and the duplicate record.
    expect(w.written).toContain('outcome written');
    expect(w.written).toContain('recent purchase');
    expect(w.written).not.toContain('journal settled');
    expect(answered).toBe(false);
    settledGate.open();
    const outcome = await answer;
    expect(outcome).toMatchObject({ status: 201, replayed: false, body: { id: 'order-1' } });
    expect(w.written).toContain('journal settled');
  });

  it('an unavailable policy is 503 policy-unavailable as before, nothing sent', async () => {
    const w = world({ verdict: 'unavailable' });
    w.decision.open();
    w.lock.open();
    const error = await perform(checkoutCommand(CUSTOMER, 'cart-2'), options(), w.deps).catch((e: unknown) => e);
    // The checkout's cart is read to judge it (a GET, which buys nothing); here that read fails: unavailable.
    expect((error as Error).name).toBe('PolicyUnavailableError');
    expect(w.sent.filter((path) => path.endsWith('/checkout'))).toEqual([]);
  });
});
