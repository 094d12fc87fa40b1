// Command-layer settings for tests that build handler dependencies by hand (the others read them from config.ts).
import { PREFLIGHT_OFF_OPTIONS, Preflight } from '../../functions/shared/catalog/preflight.js';
import type { CommandDependencies, ExactlyOnceSettings } from '../../functions/shared/commands.js';
import { ALLOW_ALL_POLICY } from './policy.js';

/** Small pauses between the checkouts of a cart within one request. */
export const TEST_EXACTLY_ONCE: ExactlyOnceSettings = { retryDelayMs: 5 };

/**
 * No catalog pre-flight (PREFLIGHT=off): for handlers built by hand around an upstream that serves no catalog. The
 * pre-flight's own tests build theirs (test/integration/catalog.test.ts, test/unit/catalog.test.ts).
 */
export const PREFLIGHT_OFF = new Preflight(PREFLIGHT_OFF_OPTIONS);

type Settings = Pick<CommandDependencies, 'requireIdempotencyKey' | 'exactlyOnce' | 'preflight' | 'policy'>;

/** For handlers that exercise validation and upstream mapping without a store: keys optional, as a deployment may set. */
export const KEYS_OPTIONAL: Settings = {
  requireIdempotencyKey: false,
  exactlyOnce: TEST_EXACTLY_ONCE,
  preflight: PREFLIGHT_OFF,
  // Every caller may buy anything: these handlers are about something else (test/support/policy.ts).
  policy: ALLOW_ALL_POLICY,
};

/** As deployed by default: a purchase without a key is refused. */
export const KEYS_REQUIRED: Settings = {
  requireIdempotencyKey: true,
  exactlyOnce: TEST_EXACTLY_ONCE,
  preflight: PREFLIGHT_OFF,
  // Every caller may buy anything: these handlers are about something else (test/support/policy.ts).
  policy: ALLOW_ALL_POLICY,
};
