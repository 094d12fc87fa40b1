// Direct invocation (Step Functions, another Lambda, `aws lambda invoke`): a flat command — `command` (CreateOrder,
// CreateCart, CheckoutCart, or ChangeSubscription with its `operation`: cancelSubscription, reduceSeats,
// changeAutoRenew, scheduleRenewalChange, cancelScheduledChange), the fields of the event `detail`, `dryRun`,
// `idempotencyKey` — answered with the same
// JSON the HTTP route returns (functions/shared/invoke.ts). The caller is always `Invoker::"invoke"`: whoever holds
// lambda:InvokeFunction on this function. API Gateway events and SQS batches are refused.
import { createDependencies } from '../shared/dependencies.js';
import { invokeCommand, invokeHandler } from '../shared/invoke.js';
import { CartCommandPayload, CheckoutCommandPayload } from '../shared/schemas/carts.js';
import { OrderCommandPayload } from '../shared/schemas/orders.js';
import { checkoutCommand, createCartCommand } from '../shared/services/carts.js';
import { orderCommand } from '../shared/services/orders.js';
import { subscriptionCommand } from '../shared/subscriptions/commands.js';
import { SubscriptionCommandPayload } from '../shared/subscriptions/schemas.js';

export const INVOKE_COMMANDS = ['CreateOrder', 'CreateCart', 'CheckoutCart', 'ChangeSubscription'] as const;

export const createHandler = (dependencies: Parameters<typeof invokeHandler>[1]) =>
  invokeHandler(
    {
      // With `orderId`: add-ons to that order (PATCH /customers/{customerId}/orders/{orderId}).
      CreateOrder: invokeCommand(OrderCommandPayload, orderCommand),
      CreateCart: invokeCommand(CartCommandPayload, ({ customerId, ...cart }) => createCartCommand(customerId, cart)),
      CheckoutCart: invokeCommand(CheckoutCommandPayload, ({ customerId, cartId }) =>
        checkoutCommand(customerId, cartId),
      ),
      // Undoing a purchase (docs/after-purchase.md): `operation` says which change.
      ChangeSubscription: invokeCommand(SubscriptionCommandPayload, subscriptionCommand),
    } satisfies Record<(typeof INVOKE_COMMANDS)[number], unknown>,
    dependencies,
  );

export const handler = createHandler(createDependencies());
