// The events of what happens after a purchase, on the same bus and with the same source as the purchase outcomes
// (events.ts), so the command rule (`source ≠ partner-orders`) never routes them back.
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { eventBridgePublisher, SERVICE_EVENT_SOURCE } from '../bus.js';

export const LIFECYCLE_SOURCE = SERVICE_EVENT_SOURCE;

export const LIFECYCLE_EVENT_TYPES = [
  'OrderProvisioned',
  'OrderProvisioningStalled',
  'PurchaseReconciled',
  'PurchaseNotPlaced',
  'PurchaseNeedsAttention',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

export interface LifecycleEvent {
  detailType: LifecycleEventType;
  detail: Record<string, unknown>;
}

/** Publishes events; throws when any entry was not accepted (the caller then tries again later). */
export type Publish = (events: LifecycleEvent[]) => Promise<void>;

/** What happens after a purchase, to the bus. */
export const eventBridgeLifecyclePublisher = (busName: string, client?: EventBridgeClient): Publish =>
  eventBridgePublisher<LifecycleEvent>(busName, client);
