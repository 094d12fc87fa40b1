// Direct invocation as Step Functions or `aws lambda invoke` makes it: the invoke-purchase function with a flat
// command. `invokeOrder` and `invokeCart` name the command the way the payload used to imply it.
import type { Context } from 'aws-lambda';
import { createHandler } from '../../functions/invoke-purchase/handler.js';

type Deps = Parameters<typeof createHandler>[0];

/** CreateOrder (with `orderId`: add-ons to that order). */
export function invokeOrder(deps: Deps) {
  const handler = createHandler(deps);
  return (payload: Record<string, unknown>, context: Context): Promise<unknown> =>
    handler({ command: 'CreateOrder', ...payload }, context);
}

/** CreateCart, or CheckoutCart when the payload names a `cartId`. */
export function invokeCart(deps: Deps) {
  const handler = createHandler(deps);
  return (payload: Record<string, unknown>, context: Context): Promise<unknown> =>
    handler({ command: 'cartId' in payload ? 'CheckoutCart' : 'CreateCart', ...payload }, context);
}
