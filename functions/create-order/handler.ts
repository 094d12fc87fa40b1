// POST /customers/{customerId}/orders and PATCH /customers/{customerId}/orders/{orderId} (add-ons), and the same
// as a direct invocation with a flat order payload.
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { entryPoint, invokeHandler } from '../shared/invoke.js';
import { CustomerPath, OrderPath } from '../shared/schemas/ids.js';
import { AddOnRequest, CreateOrderRequest, OrderCommandPayload } from '../shared/schemas/orders.js';
import { addOnCommand, createOrderCommand, orderCommand } from '../shared/services/orders.js';

export const createHandler = (dependencies: HttpDependencies) =>
  entryPoint(
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
    ),
    invokeHandler((payload) => orderCommand(payload), OrderCommandPayload, dependencies),
  );

export const handler = createHandler(createDependencies());
