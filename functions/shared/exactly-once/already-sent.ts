// Whether a checkout with this key may already have placed the purchase. The checks made before sending — the
// purchase policy, the catalog pre-flight — judged it then; on a retry they are not made again: the purchase may be
// placed, and only checking its cart out again (checkout-once.ts) may answer it. A policy or catalog changed since
// must not turn a purchase that was placed into a refusal. A purchase proven not placed (its checkout refused, or
// never sent) is judged anew.
import type { Command, ServiceContext } from '../purchase/model.js';

export async function alreadySent(_command: Command, ctx: ServiceContext): Promise<boolean> {
  if (!ctx.exactlyOnce || ctx.dryRun) return false;
  return (await ctx.exactlyOnce.journal.read()).placed === 'maybe';
}
