// The catalog pre-flight: before a purchase sends anything, every line with a catalog id (`productId:skuId:
// availabilityId`, on orders, add-ons and carts, whichever entry point) is checked against the customer's own view of
// the catalog, and what Partner Center would refuse is refused here, as a 422 `catalog-mismatch` naming the field and
// the catalog fact. Legacy offer ids pass unchecked. A dry run reports the verdict of every line and the facts used.
//
// PREFLIGHT=on (default): a catalog that cannot be read fails the purchase closed (503 `catalog-unavailable`, nothing
// sent). PREFLIGHT=best-effort: the purchase is then sent unchecked (what could be read is still checked).
// PREFLIGHT=off: nothing is read or checked.
//
// The check runs inside the command (commands.ts wraps it), so with an Idempotency-Key a replay answers the stored
// outcome without a check, and a purchase resumed after an attempt was sent is not checked again: it was checked
// before that attempt, and a catalog that changed since must not hide what the attempt may have placed.
import type { PreflightMode } from '../config.js';
import { type FieldError, PartnerCenterError, UpstreamProtocolError, UpstreamUnavailableError } from '../errors.js';
import { alreadySent } from '../exactly-once/already-sent.js';
import { logger } from '../log.js';
import { type Command, payloadPrefix, type ServiceContext, type ServiceResult } from '../purchase/model.js';
import type { CreateCartRequest } from '../schemas/carts.js';
import type { PreflightReport } from '../schemas/catalog.js';
import type { CreateOrderRequest } from '../schemas/orders.js';
import { type CatalogId, checkLine, type PurchaseLine, parseCatalogId, type SkuFacts } from './checks.js';
import { CatalogMismatchError, CatalogUnavailableError } from './errors.js';
import type { Catalog, ReadContext } from './reads.js';

export interface PreflightOptions {
  mode: PreflightMode;
  /** Required unless the mode is `off`. */
  catalog?: Catalog;
  /** The most the catalog reads of one purchase may take (PREFLIGHT_TIMEOUT_MS), within the request's deadline. */
  timeoutMs: number;
  /** SKUs read at once for one purchase. */
  concurrency?: number;
}

/** A PREFLIGHT=off pre-flight: for deployments that chose it, and handlers built by hand around a fake upstream. */
export const PREFLIGHT_OFF_OPTIONS: PreflightOptions = { mode: 'off', timeoutMs: 0 };

export { payloadPrefix } from '../purchase/model.js';

/** The lines of a purchase command that name something to buy. A checkout by cart id has none here. */
export function purchaseLines(command: Command): PurchaseLine[] {
  if (command.operation === 'createCart') {
    return (command.input as CreateCartRequest).lineItems.map((line, index) => ({
      path: `/lineItems/${index}`,
      idField: 'catalogItemId',
      id: line.catalogItemId,
      quantity: line.quantity,
      ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
      billingCycle: line.billingCycle,
      billingCyclePath: `/lineItems/${index}/billingCycle`,
      billingCycleDefaulted: false,
    }));
  }
  if (command.operation === 'createOrder' || command.operation === 'addOnToOrder') {
    const order =
      command.operation === 'createOrder'
        ? (command.input as CreateOrderRequest)
        : (command.input as { order: CreateOrderRequest }).order;
    return order.lineItems.map((line, index) => ({
      path: `/lineItems/${index}`,
      idField: 'offerId',
      id: line.offerId,
      quantity: line.quantity,
      ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
      // "The default is Monthly … at order creation" (order-resources.md).
      billingCycle: order.billingCycle ?? 'monthly',
      billingCyclePath: '/billingCycle',
      billingCycleDefaulted: order.billingCycle === undefined,
    }));
  }
  return [];
}

type SkuOutcome = { facts: SkuFacts } | { error: unknown };

/**
 * Failures of a catalog read that a later try may get past. Anything else is not the catalog's to excuse: a credentials
 * problem is answered as the credentials problem it is, a bug as a bug.
 */
const isTransient = (error: unknown) =>
  error instanceof UpstreamUnavailableError ||
  error instanceof UpstreamProtocolError ||
  (error instanceof PartnerCenterError && (error.status === 429 || error.status === 408 || error.status >= 500));

/** Partner Center refused the read itself (400, 403: no commerce relationship…): a purchase would be refused too. */
const isRefusal = (error: unknown) =>
  error instanceof PartnerCenterError &&
  error.status >= 400 &&
  error.status < 500 &&
  !isTransient(error) &&
  error.status !== 401;

const describeFailure = (error: unknown) =>
  error instanceof PartnerCenterError
    ? `Partner Center answered ${error.status}${error.code ? ` (${error.code})` : ''}${error.description ? `: ${error.description}` : ''}`
    : error instanceof Error
      ? error.message
      : String(error);

interface Checked {
  report: PreflightReport;
  mismatches: FieldError[];
  /** A read Partner Center refused, or credentials it refused: thrown as they are on a real request. */
  fatal?: unknown;
  /** The first read that failed in a way a later try may get past. */
  unavailable?: unknown;
}

export class Preflight {
  constructor(readonly options: PreflightOptions) {
    if (options.mode !== 'off' && !options.catalog) throw new Error(`PREFLIGHT=${options.mode} needs a catalog`);
  }

  get mode(): PreflightMode {
    return this.options.mode;
  }

  /**
   * The command, checking its catalog lines first whenever it runs (for real or as a dry run). Called once by
   * `perform` (commands.ts); commands with no lines to check are returned as they are.
   */
  guard(command: Command, where: { idempotencyKeyPath: string }): Command {
    if (this.options.mode === 'off') return command;
    const lines = purchaseLines(command);
    if (lines.length === 0) return command;
    const prefix = payloadPrefix(where.idempotencyKeyPath);
    return { ...command, run: (ctx) => this.run(command, lines, prefix, ctx) };
  }

  private async run(
    command: Command,
    lines: PurchaseLine[],
    prefix: string,
    ctx: ServiceContext,
  ): Promise<ServiceResult> {
    if (!ctx.dryRun && (await alreadySent(command, ctx))) {
      logger.info('pre-flight skipped: a purchase with this key was already sent, and was checked before it was');
      return command.run(ctx);
    }
    const checked = await this.check(command.customerId, lines, prefix, ctx);
    if (ctx.dryRun) {
      const result = await command.run(ctx);
      return { ...result, body: { ...(result.body as object), preflight: checked.report } };
    }
    // A refusal is in the access log and the outcome; the verdict of every purchase only at DEBUG (a line at INFO
    // costs a warm purchase more than the check itself).
    if (logger.isEnabled('DEBUG')) {
      logger.debug('pre-flight', {
        verdict: checked.report.verdict,
        lines: lines.length,
        refused: checked.report.lines.filter((l) => l.verdict === 'refused').length,
      });
    }
    if (checked.fatal !== undefined) throw checked.fatal;
    if (checked.mismatches.length > 0) throw new CatalogMismatchError(checked.mismatches);
    if (checked.unavailable !== undefined) {
      const reason = describeFailure(checked.unavailable);
      if (this.options.mode === 'on') {
        const wait =
          checked.unavailable instanceof PartnerCenterError && checked.unavailable.status === 429
            ? (checked.unavailable.retryAfterSeconds ?? 1)
            : 5;
        throw new CatalogUnavailableError(reason, wait, checked.unavailable);
      }
      logger.warn('pre-flight: the catalog could not be read; the purchase is sent unchecked (PREFLIGHT=best-effort)', {
        reason,
        unchecked: checked.report.lines.filter((l) => l.verdict === 'unavailable').length,
      });
    }
    return command.run(ctx);
  }

  /** Reads the facts of every distinct SKU (cached, single-flight, a few at a time) and judges every line. */
  private async check(
    customerId: string,
    lines: PurchaseLine[],
    prefix: string,
    ctx: ServiceContext,
  ): Promise<Checked> {
    const catalog = this.options.catalog as Catalog;
    const read: ReadContext = {
      partnerCenter: ctx.partnerCenter,
      correlationId: ctx.correlationId,
      deadline: Math.min(ctx.deadline, Date.now() + this.options.timeoutMs),
    };
    const ids = lines.map((line) => parseCatalogId(line.id));
    const skuKey = (id: CatalogId) => `${id.productId}:${id.skuId}`;
    const distinct = new Map<string, CatalogId>();
    for (const id of ids) if (id) distinct.set(skuKey(id), id);
    const outcomes = new Map<string, SkuOutcome>();
    // Warm: every SKU's facts are cached, and nothing is awaited.
    const missing: [string, CatalogId][] = [];
    for (const [key, id] of distinct) {
      const facts = catalog.cachedFacts(customerId, id.productId, id.skuId);
      if (facts) outcomes.set(key, { facts });
      else missing.push([key, id]);
    }
    await eachLimited(missing, this.options.concurrency ?? 5, async ([key, id]) => {
      try {
        const [sku, availabilities] = await Promise.all([
          catalog.sku(read, customerId, id.productId, id.skuId),
          catalog.availabilitiesOf(read, customerId, id.productId, id.skuId),
        ]);
        outcomes.set(key, { facts: { sku, availabilities } });
      } catch (error) {
        outcomes.set(key, { error });
      }
    });

    const result: Checked = {
      report: { mode: this.options.mode as 'on' | 'best-effort', verdict: 'pass', detail: '', lines: [] },
      mismatches: [],
    };
    lines.forEach((line, index) => {
      const id = ids[index];
      const base = { path: `${prefix}${line.path}`, catalogItemId: line.id };
      if (!id) {
        result.report.lines.push({
          ...base,
          verdict: 'unchecked',
          reason: 'not a catalog id (a legacy offer id): passed unchecked',
        });
        return;
      }
      const outcome = outcomes.get(skuKey(id));
      if (!outcome || 'error' in outcome) {
        const error = outcome?.error;
        if (!isTransient(error)) {
          result.fatal ??= error;
          if (isRefusal(error)) {
            const errors = [
              {
                path: `${prefix}${line.path}/${line.idField}`,
                message: `the catalog read was refused: ${describeFailure(error)}`,
              },
            ];
            result.report.lines.push({ ...base, verdict: 'refused', errors });
          } else {
            result.report.lines.push({ ...base, verdict: 'unavailable', reason: describeFailure(error) });
          }
          return;
        }
        result.unavailable ??= error;
        result.report.lines.push({ ...base, verdict: 'unavailable', reason: describeFailure(error) });
        return;
      }
      const verdict = checkLine(line, id, outcome.facts);
      const errors = verdict.errors.map((e) => ({ path: `${prefix}${e.path}`, message: e.message }));
      result.mismatches.push(...errors);
      result.report.lines.push({
        ...base,
        verdict: errors.length > 0 ? 'refused' : 'pass',
        ...(errors.length > 0 ? { errors } : {}),
        ...(verdict.catalog ? { catalog: verdict.catalog } : {}),
      });
    });
    const { report } = result;
    const unchecked = report.lines.filter((l) => l.verdict === 'unchecked').length;
    const legacy = unchecked > 0 ? ` ${unchecked} line(s) with a legacy offer id pass unchecked.` : '';
    if (report.lines.some((l) => l.verdict === 'refused')) {
      report.verdict = 'refused';
      report.detail =
        result.mismatches.length > 0
          ? 'A real request would be refused with 422 catalog-mismatch (see lines[].errors); nothing would be sent.'
          : 'Partner Center refused a catalog read: a real request would be refused the same way; nothing would be sent.';
    } else if (report.lines.some((l) => l.verdict === 'unavailable')) {
      report.verdict = 'unavailable';
      report.detail =
        this.options.mode === 'on'
          ? 'The catalog could not be read: a real request would be refused with 503 catalog-unavailable (PREFLIGHT=on); nothing would be sent.'
          : 'The catalog could not be read: a real request would be sent with those lines unchecked (PREFLIGHT=best-effort).';
    } else {
      report.detail = `The customer's catalog accepts every line checked.${legacy}`;
    }
    return result;
  }
}

/** Runs `task` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  if (items.length === 0) return;
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
