// POST /customers/{customerId}/orders and PATCH /customers/{customerId}/orders/{orderId} (add-ons). API Gateway
// events only: direct invocation is the invoke-purchase function's (entry-points.ts).
import { readConfig } from '../shared/config.js';
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { identityFrom } from '../shared/identity/http.js';
import { CustomerPath, OrderPath } from '../shared/schemas/ids.js';
import { AddOnRequest, CreateOrderRequest } from '../shared/schemas/orders.js';
import { addOnCommand, createOrderCommand } from '../shared/services/orders.js';

export const createHandler = (dependencies: HttpDependencies) =>
  httpHandler(
    {
      'POST /customers/{customerId}/orders': operation({
        path: CustomerPath,
        body: CreateOrderRequest,
        command: ({ path, body }) => createOrderCommand(path.customerId, body),
      }),
      'PATCH /customers/{customerId}/orders/{orderId}': operation({
        path: OrderPath,
        body: AddOnRequest,
        command: ({ path, body }) => addOnCommand(path.customerId, path.orderId, body),
      }),
    },
    dependencies,
  );

const config = readConfig();
export const handler = createHandler({ ...createDependencies(config), identity: identityFrom(config) });
