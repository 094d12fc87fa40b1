// What the subscription operations read and take (docs/after-purchase.md, "Undoing a purchase"). Partner Center's
// Subscription resource is read leniently (new fields and enum values appear); the requests are strict.
import * as z from 'zod/mini';
import { MAX_QUANTITY, termDuration } from '../schemas/common.js';
import { customerId } from '../schemas/ids.js';

/** Subscription ids are GUIDs Partner Center assigns. */
export const subscriptionId = z.pipe(
  z.string().check(
    z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
      error: 'must be a GUID (subscription id)',
    }),
  ),
  z.transform((value: string) => value.toLowerCase()),
);

export const SubscriptionPath = z.strictObject({ customerId, subscriptionId });

/** `scheduledNextTermInstructions` (create-scheduled-changes; ScheduledNextTermInstructions in the .NET SDK). */
export const NextTermInstructions = z.looseObject({
  product: z.optional(
    z.nullable(
      z.looseObject({
        productId: z.optional(z.nullable(z.string())),
        skuId: z.optional(z.nullable(z.string())),
        availabilityId: z.optional(z.nullable(z.string())),
        billingCycle: z.optional(z.nullable(z.string())),
        termDuration: z.optional(z.nullable(z.string())),
      }),
    ),
  ),
  quantity: z.optional(z.nullable(z.number())),
  customTermEndDate: z.optional(z.nullable(z.string())),
});
export type NextTermInstructions = z.infer<typeof NextTermInstructions>;

/** Partner Center's Subscription resource (subscription-resources): the fields the operations read. */
export const Subscription = z.looseObject({
  id: z.string(),
  offerId: z.optional(z.nullable(z.string())),
  friendlyName: z.optional(z.nullable(z.string())),
  quantity: z.number(),
  status: z.optional(z.nullable(z.string())),
  autoRenewEnabled: z.optional(z.nullable(z.boolean())),
  creationDate: z.optional(z.nullable(z.string())),
  effectiveStartDate: z.optional(z.nullable(z.string())),
  commitmentEndDate: z.optional(z.nullable(z.string())),
  /** NCE only: "the last date that the partner can cancel their subscription for the given term"; null when it cannot be. */
  cancellationAllowedUntilDate: z.optional(z.nullable(z.string())),
  /** "The number of seats eligible for reduction at the time of the request", with their return windows. */
  refundableQuantity: z.optional(
    z.nullable(
      z.looseObject({
        totalQuantity: z.optional(z.nullable(z.number())),
        details: z.optional(
          z.nullable(z.array(z.looseObject({ quantity: z.number(), allowedUntilDateTime: z.string() }))),
        ),
      }),
    ),
  ),
  termDuration: z.optional(z.nullable(z.string())),
  billingCycle: z.optional(z.nullable(z.string())),
  scheduledNextTermInstructions: z.optional(z.nullable(NextTermInstructions)),
  orderId: z.optional(z.nullable(z.string())),
});
export type Subscription = z.infer<typeof Subscription>;

const seats = z.int().check(z.gte(1, { error: 'must be at least 1' }), z.lte(MAX_QUANTITY));

/** `POST …/cancel`: nothing to say; a body, if any, is `{}`. */
export const CancelRequest = z.strictObject({});
/** `POST …/reduce`: how many seats to remove (the service works out the absolute quantity and records it). */
export const ReduceRequest = z.strictObject({ seatsToRemove: seats });
/** `POST …/auto-renew`. */
export const AutoRenewRequest = z.strictObject({ enabled: z.boolean() });

/** `product:sku:availability`, as an order line's offerId for new commerce. */
const catalogItemId = z.string().check(
  z.regex(/^[A-Za-z0-9]{1,64}:[A-Za-z0-9]{1,16}:[A-Za-z0-9]{1,64}$/, {
    error: 'must be a catalog item id product:sku:availability',
  }),
);

/** `POST …/scheduled-changes`: what the next term should be; what is not named stays as it is. */
export const ScheduleRequest = z
  .strictObject({
    quantity: z.optional(seats),
    termDuration: z.optional(termDuration),
    billingCycle: z.optional(
      z.enum(['monthly', 'annual', 'triennial'], { error: 'must be monthly, annual or triennial' }),
    ),
    catalogItemId: z.optional(catalogItemId),
    customTermEndDate: z.optional(z.iso.datetime({ error: 'must be an ISO 8601 date-time' })),
  })
  .check(
    z.refine((value) => Object.keys(value).length > 0, {
      error: 'must name at least one of quantity, termDuration, billingCycle, catalogItemId',
    }),
  );
export type ScheduleRequest = z.infer<typeof ScheduleRequest>;

/** The operations, by the name events, direct invocations and the journal use. */
export const SUBSCRIPTION_OPERATIONS = [
  'cancelSubscription',
  'reduceSeats',
  'changeAutoRenew',
  'scheduleRenewalChange',
  'cancelScheduledChange',
] as const;
export type SubscriptionOperation = (typeof SUBSCRIPTION_OPERATIONS)[number];

/** A direct invocation or an event detail: the operation and its ids, flat, with the operation's own fields. */
export const SubscriptionCommandPayload = z.discriminatedUnion('operation', [
  z.strictObject({ operation: z.literal('cancelSubscription'), customerId, subscriptionId }),
  z.strictObject({ operation: z.literal('reduceSeats'), customerId, subscriptionId, seatsToRemove: seats }),
  z.strictObject({ operation: z.literal('changeAutoRenew'), customerId, subscriptionId, enabled: z.boolean() }),
  z.strictObject({
    operation: z.literal('scheduleRenewalChange'),
    customerId,
    subscriptionId,
    changes: ScheduleRequest,
  }),
  z.strictObject({ operation: z.literal('cancelScheduledChange'), customerId, subscriptionId }),
]);
export type SubscriptionCommandPayload = z.infer<typeof SubscriptionCommandPayload>;

const describe = <T extends z.ZodMiniType>(schema: T, text: string): T => schema.check(z.describe(text));

/** The windows an answer shows (windows.ts), as documented in OpenAPI. */
export const WindowsSchema = z.object({
  refundableUntil: describe(
    z.nullable(z.string()),
    'When the refund window of the subscription closes (or closed): Partner Center’s cancellationAllowedUntilDate, else 168 hours after the current term began.',
  ),
  cancellable: describe(z.boolean(), 'Whether a cancel now would be accepted (active, and inside the window).'),
  removableSeats: describe(z.number(), 'Seats that can be removed now.'),
  seatWindows: describe(
    z.array(z.object({ quantity: z.number(), until: z.string() })),
    'Each batch of removable seats and until when it can be removed (Partner Center’s refundableQuantity).',
  ),
  source: describe(
    z.enum(['partner-center', 'derived']),
    '`partner-center`: read from cancellationAllowedUntilDate and refundableQuantity; `derived`: from the subscription’s dates.',
  ),
  renewsOn: describe(z.nullable(z.string()), 'When the next term starts, if the subscription renews.'),
});

/** The answer of the read and of every change: the subscription after it, its windows, what renews. */
export const SubscriptionAnswer = z.looseObject({
  operation: z.optional(z.enum(SUBSCRIPTION_OPERATIONS)),
  customerId: z.optional(z.string()),
  subscriptionId: z.optional(z.string()),
  subscription: Subscription,
  windows: WindowsSchema,
  renewal: z.object({
    autoRenewEnabled: z.boolean(),
    renewsOn: z.nullable(z.string()),
    scheduledNextTermInstructions: z.nullable(NextTermInstructions),
    note: z.string(),
  }),
  alreadyDone: z.optional(describe(z.boolean(), 'Nothing was sent: the subscription already was as asked.')),
  targetQuantity: z.optional(z.number()),
  seatsRemoved: z.optional(z.number()),
  droppedScheduledChanges: z.optional(
    describe(NextTermInstructions, 'What had been scheduled for renewal, deleted by this immediate change.'),
  ),
  willDropScheduledChanges: z.optional(
    describe(NextTermInstructions, 'Dry run: what is scheduled for renewal and would be deleted by this change.'),
  ),
  warning: z.optional(z.string()),
});
