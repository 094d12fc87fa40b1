// POST /customers/{customerId}/carts (optionally checked out) and POST /customers/{customerId}/carts/{cartId}/checkout.
// API Gateway events only: direct invocation is the invoke-purchase function's (entry-points.ts).
import { readConfig } from '../shared/config.js';
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { identityFrom } from '../shared/identity/http.js';
import { CheckoutRequest, CreateCartRequest } from '../shared/schemas/carts.js';
import { CartPath, CustomerPath } from '../shared/schemas/ids.js';
import { checkoutCommand, createCartCommand } from '../shared/services/carts.js';

export const createHandler = (dependencies: HttpDependencies) =>
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
  );

const config = readConfig();
export const handler = createHandler({ ...createDependencies(config), identity: identityFrom(config) });
