// POST /customers/{customerId}/carts (optionally checked out) and POST /customers/{customerId}/carts/{cartId}/checkout,
// and the same as a direct invocation: a flat cart payload, or `{ customerId, cartId }` to check a cart out.
import type * as z from 'zod/mini';
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { entryPoint, invokeHandler } from '../shared/invoke.js';
import {
  CartCommandPayload,
  CheckoutCommandPayload,
  CheckoutRequest,
  CreateCartRequest,
} from '../shared/schemas/carts.js';
import { CartPath, CustomerPath } from '../shared/schemas/ids.js';
import { checkoutCommand, createCartCommand } from '../shared/services/carts.js';

type CartInvocation = z.infer<typeof CartCommandPayload> | z.infer<typeof CheckoutCommandPayload>;

export const createHandler = (dependencies: HttpDependencies) =>
  entryPoint(
    httpHandler(
      {
        'POST /customers/{customerId}/carts': operation({
          path: CustomerPath,
          body: CreateCartRequest,
          command: ({ path, body }) => createCartCommand(path.customerId, body),
        }),
        'POST /customers/{customerId}/carts/{cartId}/checkout': operation({
          path: CartPath,
          body: CheckoutRequest,
          bodyOptional: true,
          command: ({ path }) => checkoutCommand(path.customerId, path.cartId),
        }),
      },
      dependencies,
    ),
    invokeHandler<CartInvocation>(
      (payload) => {
        if ('cartId' in payload) return checkoutCommand(payload.customerId, payload.cartId);
        const { customerId, ...cart } = payload;
        return createCartCommand(customerId, cart);
      },
      (payload) =>
        (payload && typeof payload === 'object' && 'cartId' in payload
          ? CheckoutCommandPayload
          : CartCommandPayload) as z.ZodMiniType<CartInvocation>,
      dependencies,
    ),
  );

export const handler = createHandler(createDependencies());
