export { DEFAULT_SIMULATOR_CREDENTIALS, type SimulatorCredentials } from './auth.js';
export { CART_LIFETIME_MS, PARTIAL_FAILURE_MARKER, SIMULATOR_USER_OBJECT_ID } from './carts.js';
export type { FaultKind, FaultRule } from './faults.js';
export { type Distribution, type LatencyModel, REALISTIC_LATENCY } from './latency.js';
export type {
  BillingCycle,
  Cart,
  CartAddonItem,
  CartCheckoutResult,
  CartLineItem,
  CartStatus,
  Link,
  Order,
  OrderError,
  OrderLineItem,
  OrderStatus,
  PartnerCenterError,
  RecordedRequest,
  ResourceCollection,
} from './models.js';
export { PARTNER_CENTER_RESOURCE } from './models.js';
export { STALLED_MARKER } from './provisioning.js';
export { SIMULATOR_NO_COMMERCE_CUSTOMER_ID, SIMULATOR_UNKNOWN_CUSTOMER_ID } from './routes.js';
export { type DedupeMode, dedupeFromEnv, PartnerCenterSimulator, type SimulatorOptions } from './server.js';
export type { BucketUsage, ThrottleOptions } from './throttle.js';
export { INVALID_OFFER_MARKER } from './validation.js';
