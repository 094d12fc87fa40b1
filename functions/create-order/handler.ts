// POST /customers/{customerId}/orders and PATCH /customers/{customerId}/orders/{orderId} (add-ons).
import { createDependencies } from '../shared/dependencies.js';
import { type HttpDependencies, httpHandler, operation } from '../shared/http.js';
import { CustomerPath, OrderPath } from '../shared/schemas/ids.js';
import { AddOnRequest, CreateOrderRequest } from '../shared/schemas/orders.js';
import { addOnToOrder, createOrder } from '../shared/services/orders.js';

export const createHandler = (dependencies: HttpDependencies) =>
  httpHandler(
    {
      'POST /customers/{customerId}/orders': operation({
        path: CustomerPath,
        body: CreateOrderRequest,
        run: (ctx, { path, body }) => createOrder(ctx, { customerId: path.customerId, order: body }),
      }),
      'PATCH /customers/{customerId}/orders/{orderId}': operation({
        path: OrderPath,
        body: AddOnRequest,
        run: (ctx, { path, body }) => addOnToOrder(ctx, { ...path, order: body }),
      }),
    },
    dependencies,
  );

export const handler = createHandler(createDependencies());
