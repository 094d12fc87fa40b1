// Whether a purchase with this key has already gone out (or created its cart). The checks made before sending — the
// purchase policy, the catalog pre-flight — judged it then; on a retry they are not made again: the purchase may be
// placed, and only finding out (place-once.ts) may answer it. A policy or catalog changed since must not turn a
// purchase that was placed into a refusal.
import type { Command } from '../commands.js';
import type { CreateCartRequest } from '../schemas/carts.js';
import type { ServiceContext } from '../services/context.js';

export async function alreadySent(command: Command, ctx: ServiceContext): Promise<boolean> {
  if (!ctx.exactlyOnce || ctx.dryRun) return false;
  // A cart created without checkout keeps no journal (creating a cart buys nothing).
  if (command.operation === 'createCart' && (command.input as CreateCartRequest).checkout !== true) return false;
  const entry = await ctx.exactlyOnce.records.journal.read();
  return entry.firstSentAt !== undefined || (entry.requestIds?.length ?? 0) > 0 || entry.cart !== undefined;
}
