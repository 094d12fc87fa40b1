// The events of what happens after a purchase, on the same bus and with the same source as the purchase outcomes
// (events.ts), so the command rule (`source ≠ partner-orders`) never routes them back.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

/** events.ts OUTCOME_SOURCE (not imported: that module brings the whole command layer into these bundles). */
export const LIFECYCLE_SOURCE = 'partner-orders';

export const LIFECYCLE_EVENT_TYPES = [
  'OrderProvisioned',
  'OrderProvisioningStalled',
  'PurchaseReconciled',
  'PurchaseNeedsAttention',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

export interface LifecycleEvent {
  detailType: LifecycleEventType;
  detail: Record<string, unknown>;
}

/** Publishes events; throws when any entry was not accepted (the caller then tries again later). */
export type Publish = (events: LifecycleEvent[]) => Promise<void>;

export function eventBridgeLifecyclePublisher(busName: string, client = new EventBridgeClient({})): Publish {
  return async (events) => {
    if (events.length === 0) return;
    const result = await client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: busName,
          Source: LIFECYCLE_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
        })),
      }),
    );
    if (result.FailedEntryCount) {
      const codes = result.Entries?.map((e) => e.ErrorCode)
        .filter(Boolean)
        .join(', ');
      throw new Error(`EventBridge refused ${result.FailedEntryCount} lifecycle event(s): ${codes}`);
    }
  };
}
