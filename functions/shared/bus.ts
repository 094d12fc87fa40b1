// The service's own events on EventBridge: purchase outcomes (events.ts) and what happens after a purchase
// (lifecycle/events.ts), all with one source, which the command rule never routes back (`source ≠ partner-orders`).
// Kept apart from events.ts so that functions which only publish do not bundle the command layer.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export const SERVICE_EVENT_SOURCE = 'partner-orders';

/** Publishes events on the bus; throws when any entry was not accepted (the caller then tries again later). */
export function eventBridgePublisher<E extends { detailType: string; detail: unknown }>(
  busName: string,
  client = new EventBridgeClient({}),
) {
  return async (events: E[]): Promise<void> => {
    if (events.length === 0) return;
    const result = await client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: busName,
          Source: SERVICE_EVENT_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
        })),
      }),
    );
    if (result.FailedEntryCount) {
      const codes = result.Entries?.map((e) => e.ErrorCode)
        .filter(Boolean)
        .join(', ');
      throw new Error(`EventBridge refused ${result.FailedEntryCount} event(s): ${codes}`);
    }
  };
}
