// POST /customers/{customerId}/carts (optionally checked out) and POST /customers/{customerId}/carts/{cartId}/checkout.
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { CheckoutRequest, CreateCartRequest } from '../shared/schemas/carts.js';
import { CartPath, CustomerPath } from '../shared/schemas/ids.js';
import { checkoutCart, createCart } from '../shared/services/carts.js';

export const createHandler = (dependencies: HttpDependencies) =>
  httpHandler(
    {
      'POST /customers/{customerId}/carts': operation({
        path: CustomerPath,
        body: CreateCartRequest,
        run: (ctx, { path, body }) => createCart(ctx, { customerId: path.customerId, cart: body }),
      }),
      'POST /customers/{customerId}/carts/{cartId}/checkout': operation({
        path: CartPath,
        body: CheckoutRequest,
        bodyOptional: true,
        run: (ctx, { path }) => checkoutCart(ctx, path),
      }),
    },
    dependencies,
  );

export const handler = createHandler(createDependencies());
