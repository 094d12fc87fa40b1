// Command-layer settings for tests that build handler dependencies by hand (the others read them from config.ts).
import type { CommandDependencies, ReconcileSettings } from '../../functions/shared/commands.js';

/** Small pauses, and an attempt without an answer counts as settled after 300 ms. */
export const TEST_RECONCILE: ReconcileSettings = { settleMs: 300, skewMs: 60_000, retryDelayMs: 5 };

/** For handlers that exercise validation and upstream mapping without a store: keys optional, as a deployment may set. */
export const KEYS_OPTIONAL: Pick<CommandDependencies, 'requireIdempotencyKey' | 'reconcile'> = {
  requireIdempotencyKey: false,
  reconcile: TEST_RECONCILE,
};

/** As deployed by default: a purchase without a key is refused. */
export const KEYS_REQUIRED: Pick<CommandDependencies, 'requireIdempotencyKey' | 'reconcile'> = {
  requireIdempotencyKey: true,
  reconcile: TEST_RECONCILE,
};
