// Payloads of the order routes (the PowerShell `New-PartnerCustomerOrder`) and the lenient Order model that
// Partner Center answers with.
import * as z from 'zod/mini';
import {
  billingCycle,
  checkLineNumbers,
  guid,
  MAX_LINE_ITEMS,
  MAX_QUANTITY,
  mpnId,
  provisioningContext,
  termDuration,
  text,
} from './common.js';
import { customerId, orderId } from './ids.js';

/** A legacy offer GUID or a catalog id `productId:skuId:availabilityId` (e.g. `CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P`). */
export const offerId = z.string().check(
  z.regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9]{1,64}:[A-Za-z0-9]{1,64}:[A-Za-z0-9]{1,64})$/i,
    {
      error: 'must be an offer GUID or a catalog id productId:skuId:availabilityId',
    },
  ),
);

export const OrderLineItemInput = z.strictObject({
  offerId,
  quantity: z.int().check(z.gte(1), z.lte(MAX_QUANTITY)),
  lineItemNumber: z.optional(z.int().check(z.gte(0), z.lt(MAX_LINE_ITEMS))),
  friendlyName: z.optional(text(256)),
  termDuration: z.optional(termDuration),
  provisioningContext: z.optional(provisioningContext),
  partnerIdOnRecord: z.optional(mpnId),
  parentSubscriptionId: z.optional(guid('parent subscription id')),
});
export type OrderLineItemInput = z.infer<typeof OrderLineItemInput>;

const lineItems = z.array(OrderLineItemInput).check(z.minLength(1), z.maxLength(MAX_LINE_ITEMS));

const uniqueLineNumbers = z.superRefine((order: { lineItems: OrderLineItemInput[] }, ctx) => {
  const problem = checkLineNumbers(
    order.lineItems.map((line) => line.lineItemNumber),
    'lineItemNumber',
  );
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: order.lineItems, path: ['lineItems'] });
});

const orderFields = {
  lineItems,
  billingCycle: z.optional(billingCycle),
  partnerOnRecordAttestationAccepted: z.optional(z.boolean()),
};

/** Add-on lines (with parentSubscriptionId) go with PATCH, and only there: Partner Center refuses them on POST (2000). */
const PARENT_MESSAGES = {
  refused: 'parentSubscriptionId is for add-ons: send them with PATCH /customers/{customerId}/orders/{orderId}',
  required: 'every add-on line needs the parentSubscriptionId of the subscription it extends',
};
const parentSubscription = (wanted: (order: { orderId?: string }) => boolean) =>
  z.superRefine((order: { lineItems: OrderLineItemInput[]; orderId?: string }, ctx) => {
    const addOn = wanted(order);
    order.lineItems.forEach((line, index) => {
      if ((line.parentSubscriptionId !== undefined) !== addOn) {
        ctx.issues.push({
          code: 'custom',
          message: addOn ? PARENT_MESSAGES.required : PARENT_MESSAGES.refused,
          input: line.parentSubscriptionId,
          path: ['lineItems', index, 'parentSubscriptionId'],
        });
      }
    });
  });

/** `POST /customers/{customerId}/orders`: a new order. */
export const CreateOrderRequest = z.strictObject(orderFields).check(
  uniqueLineNumbers,
  parentSubscription(() => false),
);
export type CreateOrderRequest = z.infer<typeof CreateOrderRequest>;

/** `PATCH /customers/{customerId}/orders/{orderId}`: add-ons to the subscriptions of an existing order. */
export const AddOnRequest = z.strictObject(orderFields).check(
  uniqueLineNumbers,
  parentSubscription(() => true),
);
export type AddOnRequest = z.infer<typeof AddOnRequest>;

/**
 * The same order as one flat payload, for events (`CreateOrder` detail) and direct invocation: with `orderId` it is
 * an add-on to that order (the cmdlet's `-OrderId`).
 */
export const OrderCommandPayload = z.strictObject({ customerId, orderId: z.optional(orderId), ...orderFields }).check(
  uniqueLineNumbers,
  parentSubscription((order) => order.orderId !== undefined),
);
export type OrderCommandPayload = z.infer<typeof OrderCommandPayload>;

// Partner Center's answers are read leniently: unknown fields are kept and unknown enum values tolerated, so a
// new field or status upstream never turns a placed order into an error here.
const link = z.looseObject({ uri: z.optional(z.string()), method: z.optional(z.string()) });

export const OrderLineItem = z.looseObject({
  lineItemNumber: z.optional(z.number()),
  offerId: z.optional(z.string()),
  subscriptionId: z.optional(z.nullable(z.string())),
  parentSubscriptionId: z.optional(z.nullable(z.string())),
  friendlyName: z.optional(z.nullable(z.string())),
  quantity: z.optional(z.number()),
  termDuration: z.optional(z.nullable(z.string())),
  links: z.optional(z.record(z.string(), z.optional(z.nullable(link)))),
});

export const Order = z.looseObject({
  id: z.string(),
  // Nullable: the .NET SDK serialises unset properties as null, and one such field must not make a list unreadable.
  referenceCustomerId: z.optional(z.nullable(z.string())),
  billingCycle: z.optional(z.nullable(z.string())),
  currencyCode: z.optional(z.nullable(z.string())),
  status: z.optional(z.nullable(z.string())),
  creationDate: z.optional(z.nullable(z.string())),
  lineItems: z.optional(z.nullable(z.array(OrderLineItem))),
  attributes: z.optional(z.nullable(z.looseObject({ objectType: z.optional(z.nullable(z.string())) }))),
});
export type Order = z.infer<typeof Order>;

/**
 * `GET /v1/customers/{id}/orders`: a page of orders (what reconciliation reads). Items are read one by one (an order
 * this service cannot read must not hide the others), and a next page is followed by its link's headers
 * (`MS-ContinuationToken`).
 */
const pageLink = z.looseObject({
  uri: z.optional(z.nullable(z.string())),
  headers: z.optional(z.nullable(z.array(z.looseObject({ key: z.string(), value: z.string() })))),
});
export const OrderCollection = z.looseObject({
  totalCount: z.optional(z.nullable(z.number())),
  items: z.optional(z.nullable(z.array(z.unknown()))),
  links: z.optional(z.nullable(z.looseObject({ next: z.optional(z.nullable(pageLink)) }))),
});
export type OrderCollection = z.infer<typeof OrderCollection>;
