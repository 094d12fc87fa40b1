import { checkoutBusy, checkoutCart, checkoutLockKey, createCart, getCart, updateCart } from './carts.js';
import { getProduct, getSku, listAvailabilities, listProducts, listSkus } from './catalog.js';
import { getCustomer } from './customers.js';
import { type HandlerResult, pcError, type Reply, type RouteContext, type RouteParams } from './http.js';
import { createOrder, getOrder, listOrders, patchOrder } from './orders.js';
import { getProvisioningStatus, listSubscriptions } from './provisioning.js';
import { getSubscription, patchSubscription } from './subscriptions.js';
import { isGuid } from './validation.js';

/** Test hook: purchases for this customer fail with 403/20002 (no commerce relationship). */
export const SIMULATOR_NO_COMMERCE_CUSTOMER_ID = '00000000-0000-0000-0000-000000000403';
/** Test hook: this customer does not exist (404/60003). */
export const SIMULATOR_UNKNOWN_CUSTOMER_ID = '00000000-0000-0000-0000-000000000404';

type Handler = (ctx: RouteContext) => HandlerResult;

export interface Route {
  pattern: RegExp;
  params: readonly (keyof RouteParams)[];
  methods: Readonly<Partial<Record<string, Handler>>>;
  /** Requests sharing a key may not overlap; the loser gets `busy`. */
  exclusive?: { key: (params: RouteParams) => string; busy: (params: RouteParams) => Reply };
}

const ROUTES: readonly Route[] = [
  {
    pattern: /^\/v1\/customers\/([^/]+)\/?$/i,
    params: ['customerId'],
    methods: { GET: getCustomer },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/orders\/?$/i,
    params: ['customerId'],
    methods: { GET: listOrders, POST: createOrder },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/orders\/([^/]+)\/?$/i,
    params: ['customerId', 'orderId'],
    methods: { GET: getOrder, PATCH: patchOrder },
  },
  // After the purchase (provisioning.ts).
  {
    pattern: /^\/v1\/customers\/([^/]+)\/orders\/([^/]+)\/provisioningstatus\/?$/i,
    params: ['customerId', 'orderId'],
    methods: { GET: getProvisioningStatus },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/?$/i,
    params: ['customerId'],
    methods: { GET: listSubscriptions },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/?$/i,
    params: ['customerId', 'subscriptionId'],
    methods: { GET: getSubscription, PATCH: patchSubscription },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/carts\/?$/i,
    params: ['customerId'],
    methods: { POST: createCart },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/carts\/([^/]+)\/?$/i,
    params: ['customerId', 'cartId'],
    methods: { GET: getCart, PUT: updateCart },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/carts\/([^/]+)\/checkout\/?$/i,
    params: ['customerId', 'cartId'],
    methods: { POST: checkoutCart },
    exclusive: { key: checkoutLockKey, busy: checkoutBusy },
  },
  // The customer's view of the catalog (catalog.ts).
  {
    pattern: /^\/v1\/customers\/([^/]+)\/products\/?$/i,
    params: ['customerId'],
    methods: { GET: listProducts },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/products\/([^/]+)\/?$/i,
    params: ['customerId', 'productId'],
    methods: { GET: getProduct },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/products\/([^/]+)\/skus\/?$/i,
    params: ['customerId', 'productId'],
    methods: { GET: listSkus },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/products\/([^/]+)\/skus\/([^/]+)\/?$/i,
    params: ['customerId', 'productId', 'skuId'],
    methods: { GET: getSku },
  },
  {
    pattern: /^\/v1\/customers\/([^/]+)\/products\/([^/]+)\/skus\/([^/]+)\/availabilities\/?$/i,
    params: ['customerId', 'productId', 'skuId'],
    methods: { GET: listAvailabilities },
  },
];

export interface RouteMatch {
  route: Route;
  params: RouteParams;
}

export function matchRoute(pathname: string): RouteMatch | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    try {
      const params = { customerId: '', orderId: '', cartId: '', productId: '', skuId: '', subscriptionId: '' };
      route.params.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { route, params };
    } catch {
      return undefined; // malformed %-escape: nothing can live there
    }
  }
  return undefined;
}

export function methodNotAllowed(method: string, route: Route): Reply {
  const reply = pcError(405, 0, `The requested resource does not support http method '${method}'.`);
  return { ...reply, headers: { ...reply.headers, Allow: Object.keys(route.methods).join(', ') } };
}

/** Checks every customer-scoped route shares, in the order the service applies them. */
export function customerGuard(customerId: string, partnerTenantId: string): Reply | undefined {
  if (!isGuid(customerId)) return pcError(400, 900118, 'Invalid Customer Id');
  if (customerId === SIMULATOR_UNKNOWN_CUSTOMER_ID) return pcError(404, 60003, 'Tenant not found');
  if (customerId === SIMULATOR_NO_COMMERCE_CUSTOMER_ID) {
    return pcError(
      403,
      20002,
      `The partner id ${partnerTenantId} has no commerce relationship with the customer id ${customerId}.`,
    );
  }
  return undefined;
}
