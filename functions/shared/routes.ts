// The one route table: the local server serves it, CDK deploys it, the README and OpenAPI document describe it.
// Adding a route here is the only place a route is declared.

export type FunctionName =
  | 'create-order'
  | 'create-cart'
  | 'credentials-health'
  | 'catalog'
  | 'status'
  | 'subscriptions'
  | 'mcp';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH';
  /** API Gateway path template. */
  path: string;
  /** The function folder under `functions/` whose `handler.ts` serves the route. */
  function: FunctionName;
  /** The exported handler of that file. */
  handler: 'handler';
  summary: string;
  /**
   * The JWT scope the route needs when the API uses a JWT authorizer (`purchase` buys, `read` only looks); the scope
   * names are deploy options (infra/context.ts `jwtPurchaseScope`, `jwtReadScope`). IAM (SigV4) has no scopes.
   */
  scope: RouteScope;
}

/** Which of the two JWT scopes a route needs. */
export type RouteScope = 'purchase' | 'read';

export const routes = [
  {
    method: 'POST',
    path: '/customers/{customerId}/orders',
    function: 'create-order',
    handler: 'handler',
    summary: 'Create an order (New-PartnerCustomerOrder)',
    scope: 'purchase',
  },
  {
    method: 'PATCH',
    path: '/customers/{customerId}/orders/{orderId}',
    function: 'create-order',
    handler: 'handler',
    summary: 'Add add-ons to an existing order (New-PartnerCustomerOrder -OrderId)',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/carts',
    function: 'create-cart',
    handler: 'handler',
    summary: 'Create a cart, optionally checking it out (New-PartnerCustomerCart)',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/carts/{cartId}/checkout',
    function: 'create-cart',
    handler: 'handler',
    summary: 'Check out a cart (Submit-PartnerCustomerCart)',
    scope: 'purchase',
  },
  {
    method: 'GET',
    path: '/health/credentials',
    function: 'credentials-health',
    handler: 'handler',
    summary: 'Redeem a Partner Center token now and report on the credentials (no secret values)',
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/customers/{customerId}/catalog',
    function: 'catalog',
    handler: 'handler',
    summary: "Find what to buy: the customer's products matching a search, with their purchasable catalog ids",
    scope: 'read',
  },
  // After the purchase (docs/after-purchase.md): reads only.
  {
    method: 'GET',
    path: '/customers/{customerId}/orders/{orderId}',
    function: 'status',
    handler: 'handler',
    summary: "An order, each line's provisioning status merged in, and one overall state (Get-PartnerCustomerOrder)",
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/customers/{customerId}/carts/{cartId}',
    function: 'status',
    handler: 'handler',
    summary: 'A cart, its status and its expiry (Get-PartnerCustomerCart)',
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/customers/{customerId}',
    function: 'status',
    handler: 'handler',
    summary: 'Is this one of your customers? One read of Partner Center (partner-orders customer check)',
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/customers/{customerId}/orders',
    function: 'status',
    handler: 'handler',
    summary: "A customer's orders, a page at a time (Get-PartnerCustomerOrder without -OrderId)",
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/customers/{customerId}/subscriptions',
    function: 'status',
    handler: 'handler',
    summary: "A customer's subscriptions, a page at a time (Get-PartnerCustomerSubscription without -SubscriptionId)",
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/purchases/{idempotencyKey}',
    function: 'status',
    handler: 'handler',
    summary:
      "What became of the caller's purchases with this Idempotency-Key: in progress, succeeded, refused or unknown",
    scope: 'read',
  },
  // Undoing a purchase and deciding what renews (docs/after-purchase.md, "Undoing a purchase"): the subscriptions
  // function. The read shows the refund windows; each change is a command like a purchase (key, dry run, policy).
  {
    method: 'GET',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}',
    function: 'subscriptions',
    handler: 'handler',
    summary:
      'A subscription, when it can still be cancelled or reduced for a refund, and what is scheduled for renewal',
    scope: 'read',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}/cancel',
    function: 'subscriptions',
    handler: 'handler',
    summary: 'Cancel a subscription within its refund window (7 days after purchase or renewal)',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}/reduce',
    function: 'subscriptions',
    handler: 'handler',
    summary: 'Remove seats within the refund window of the seats removed (7 days after they were added)',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}/auto-renew',
    function: 'subscriptions',
    handler: 'handler',
    summary: 'Turn auto-renew on or off',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes',
    function: 'subscriptions',
    handler: 'handler',
    summary: 'Schedule changes for the next term (quantity, term, billing cycle, product), made at renewal',
    scope: 'purchase',
  },
  {
    method: 'POST',
    path: '/customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes/cancel',
    function: 'subscriptions',
    handler: 'handler',
    summary: 'Cancel the changes scheduled for the next term',
    scope: 'purchase',
  },
  // The same operations as tools for AI agents (docs/agents.md): the Model Context Protocol's Streamable HTTP, stateless
  // with JSON answers. Each tool call is dispatched to the route above that serves it, with the caller's identity, so
  // each is judged by that route's own scope and policy; the read scope only lets an agent connect and list the tools.
  {
    method: 'POST',
    path: '/mcp',
    function: 'mcp',
    handler: 'handler',
    summary: 'Model Context Protocol (Streamable HTTP, stateless): the API as tools for AI agents, quote first',
    scope: 'read',
  },
  {
    method: 'GET',
    path: '/mcp',
    function: 'mcp',
    handler: 'handler',
    summary: 'Model Context Protocol: answered 405, as a stateless server offers no event stream',
    scope: 'read',
  },
] as const satisfies readonly Route[];

/** `METHOD /path` of each route (distributed over the table's rows, not the cross product of methods and paths). */
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string } ? `${M} ${P}` : never;
export type RouteKey = KeyOf<(typeof routes)[number]>;

export const routeKey = (route: Pick<Route, 'method' | 'path'>) => `${route.method} ${route.path}` as RouteKey;

/** The function folders that serve at least one route, each once. */
export const functionNames = [...new Set(routes.map((route) => route.function))];
