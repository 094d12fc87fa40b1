// A parsed command → the one API request it stands for (route table: functions/shared/routes.ts).
import type { Command } from './args.js';

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH';
  /** The full URL: endpoint (with any base path), route, and `?dryRun=true` for --what-if. */
  url: URL;
  headers: Record<string, string>;
  /** JSON text; absent for checkout, which takes no body (and so no Content-Type either). */
  body?: string;
}

/** Ids go into the path encoded: the API judges them, but they must not be able to change the route. */
const segment = encodeURIComponent;

export function toApiRequest(command: Command): ApiRequest {
  let method: ApiRequest['method'] = 'POST';
  let route: string;
  let body: unknown;
  const customer = 'customerId' in command ? `/customers/${segment(command.customerId)}` : '';
  switch (command.name) {
    case 'credentials check':
      method = 'GET';
      route = '/health/credentials';
      break;
    case 'order create':
      if (command.orderId !== undefined) {
        method = 'PATCH';
        route = `${customer}/orders/${segment(command.orderId)}`;
      } else {
        route = `${customer}/orders`;
      }
      body = command.body;
      break;
    case 'cart create':
      route = `${customer}/carts`;
      body = command.body;
      break;
    case 'cart checkout':
      route = `${customer}/carts/${segment(command.cartId)}/checkout`;
      break;
    case 'catalog search':
      method = 'GET';
      route = `${customer}/catalog`;
      break;
    case 'order status':
    case 'order wait':
      method = 'GET';
      route = `${customer}/orders/${segment(command.orderId)}`;
      break;
    case 'purchase show':
      method = 'GET';
      route = `/purchases/${segment(command.key)}`;
      break;
    case 'customer check':
      method = 'GET';
      route = customer;
      break;
    case 'order list':
      method = 'GET';
      route = `${customer}/orders`;
      break;
    case 'subscription list':
      method = 'GET';
      route = `${customer}/subscriptions`;
      break;
    default: {
      const subscription = `${customer}/subscriptions/${segment(command.subscriptionId)}`;
      const action = {
        'subscription show': '',
        'subscription cancel': '/cancel',
        'subscription reduce': '/reduce',
        'subscription auto-renew': '/auto-renew',
        'subscription schedule': command.cancelScheduled ? '/scheduled-changes/cancel' : '/scheduled-changes',
      }[command.name];
      if (command.name === 'subscription show') method = 'GET';
      route = `${subscription}${action}`;
      body = command.body;
    }
  }

  const url = new URL(command.endpoint);
  url.pathname = `${command.endpoint.pathname.replace(/\/+$/, '')}${route}`;
  if (command.whatIf) url.searchParams.set('dryRun', 'true');
  if (command.name === 'catalog search') {
    url.searchParams.set('search', command.search);
    if (command.targetView !== undefined) url.searchParams.set('targetView', command.targetView);
  }
  if (command.name === 'order list' || command.name === 'subscription list') {
    for (const [name, value] of Object.entries(command.filter ?? {})) url.searchParams.set(name, value);
    if (command.continuationToken !== undefined) url.searchParams.set('continuationToken', command.continuationToken);
  }

  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (command.idempotencyKey !== undefined) headers['idempotency-key'] = command.idempotencyKey;
  if (command.correlationId !== undefined) headers['ms-correlationid'] = command.correlationId;
  if (command.allowDuplicate) headers['allow-duplicate'] = 'true';
  return { method, url, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
}
