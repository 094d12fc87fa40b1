// The purchase policy's vocabulary in code: the same names as policies/schema.cedarschema. A purchase becomes one
// Cedar request per line item and action (principal = the caller, resource = the customer, context = the line and
// the request's totals), so that a policy reads one line and the refusal can name that line's field.
import type { Command } from '../purchase/model.js';
import type { CreateCartRequest } from '../schemas/carts.js';
import type { CreateOrderRequest } from '../schemas/orders.js';

export const NAMESPACE = 'PartnerOrders';

/** The Cedar actions, one per kind of purchase (a cart created with `checkout: true` is both of the last two). */
export type { PolicyAction } from '../purchase/model.js';

import type { PolicyAction } from '../purchase/model.js';

/** An entity reference as Cedar's JSON formats write it. */
export interface EntityUid {
  type: string;
  id: string;
}

/** An entity as Cedar's entities JSON holds it (policies/entities.json). */
export interface EntityJson {
  uid: EntityUid;
  attrs: Record<string, unknown>;
  parents: EntityUid[];
}

/** `context.line`: the line item being judged. */
export interface PolicyLine {
  product: string;
  sku: string;
  catalogId: string;
  quantity: number;
  term: string;
  billingCycle: string;
  trial: boolean;
}

/** `context`: the line and the request's totals. */
export interface PolicyContext {
  line: PolicyLine;
  lineCount: number;
  totalSeats: number;
}

/** One Cedar authorization request. */
export interface AuthorizationRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: PolicyContext;
}

/** What an engine is asked: the requests of one purchase and the entities they need. */
export interface AuthorizationQuery {
  requests: AuthorizationRequest[];
  entities: EntityJson[];
}

/**
 * What a policy's `@field` annotation may name, and so what a refusal can point at: a `context.line` attribute, a
 * total, the customer, the order an add-on extends, or the cart being checked out.
 */
export const POLICY_FIELDS = [
  'product',
  'sku',
  'catalogId',
  'quantity',
  'term',
  'billingCycle',
  'trial',
  'totalSeats',
  'lineCount',
  'customer',
  'order',
  'cart',
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

export const entityType = (name: string) => `${NAMESPACE}::${name}`;
export const uid = (name: string, id: string): EntityUid => ({ type: entityType(name), id });
export const actionUid = (action: PolicyAction): EntityUid => uid('Action', action);
/** `PartnerOrders::Producer::"com.example.billing"`, as a policy writes it. */
export const formatUid = (entity: EntityUid) => `${entity.type}::${JSON.stringify(entity.id)}`;

/** The principal of a caller (functions/shared/caller.ts), with the token groups a JWT caller brings along. */
export interface Principal {
  uid: EntityUid;
  /** Token groups of a JWT caller: parents of the principal, as `TokenGroup` entities. */
  tokenGroups: EntityUid[];
}

/**
 * The caller as caller.ts names it, in Cedar: `http:iam:<arn>` → `Role::"<arn>"`; `http:jwt:["iss","sub"]` →
 * `User::"iss|sub"` (Verified Permissions' identity sources write token principals the same way) in its token's
 * groups; `events:<source>` → `Producer::"<source>"`; `invoke` → `Invoker::"invoke"`; `http:anonymous` (the local
 * server) → `Anonymous::"anonymous"`. Anything else is a bug, refused rather than guessed.
 */
export function principalOf(caller: string, groups: readonly string[] = []): Principal {
  const none: EntityUid[] = [];
  if (caller.startsWith('http:iam:')) return { uid: uid('Role', caller.slice('http:iam:'.length)), tokenGroups: none };
  if (caller.startsWith('http:jwt:')) {
    const parsed: unknown = JSON.parse(caller.slice('http:jwt:'.length));
    if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every((part) => typeof part === 'string')) {
      throw new Error(`unrecognised JWT caller ${caller}`);
    }
    return {
      uid: uid('User', `${parsed[0]}|${parsed[1]}`),
      tokenGroups: [...new Set(groups)].map((group) => uid('TokenGroup', group)),
    };
  }
  if (caller === 'http:anonymous') return { uid: uid('Anonymous', 'anonymous'), tokenGroups: none };
  if (caller.startsWith('events:')) return { uid: uid('Producer', caller.slice('events:'.length)), tokenGroups: none };
  if (caller === 'invoke') return { uid: uid('Invoker', 'invoke'), tokenGroups: none };
  throw new Error(`unrecognised caller ${caller}`);
}

/** A line to judge, and where each of its fields is in the request (for the refusal). */
export interface LineToJudge {
  line: PolicyLine;
  /** JSON pointers into the request, by field. */
  paths: Partial<Record<PolicyField, string>>;
  /** The line's own place: for a refusal whose field the line has no pointer for. */
  at: string;
  /** Where the line came from: the request, or the cart read back for a checkout (`cart line 2`). */
  origin: string;
}

/** What the policy judges about one purchase command. */
export interface PurchaseToJudge {
  actions: PolicyAction[];
  customerId: string;
  lines: LineToJudge[];
  /** Pointers for the request-wide fields. */
  paths: Partial<Record<PolicyField, string>>;
}

/** The parts of a catalog id: `product:sku:availability`; a GUID or a one-part id is its own product and SKU. */
export function catalogParts(catalogId: string): { product: string; sku: string } {
  const parts = catalogId.split(':');
  if (parts.length < 2) return { product: catalogId, sku: catalogId };
  return { product: parts[0] ?? catalogId, sku: `${parts[0]}:${parts[1]}` };
}

/** A line in the policy's terms. Partner Center bills monthly when an order names no cycle, and buys trials with `none`. */
export function policyLine(item: { id: string; quantity: number; term?: string; billingCycle?: string }): PolicyLine {
  const billingCycle = item.billingCycle ?? 'monthly';
  return {
    ...catalogParts(item.id),
    catalogId: item.id,
    quantity: item.quantity,
    term: item.term ?? '',
    billingCycle,
    trial: billingCycle === 'none',
  };
}

/**
 * Where a request's parts are, from where its key is read (commands.ts `idempotencyKeyPath`): HTTP (`/headers/…`)
 * has its ids in `/path` and its body in `/body`; an event has everything in `/detail`; a direct invocation at the top.
 */
export function requestPrefixes(idempotencyKeyPath: string): { ids: string; body: string } {
  if (idempotencyKeyPath.startsWith('/headers/')) return { ids: '/path', body: '/body' };
  const parent = idempotencyKeyPath.slice(0, idempotencyKeyPath.lastIndexOf('/'));
  return { ids: parent, body: parent };
}

const ACTIONS: Record<Command['operation'], PolicyAction> = {
  createOrder: 'CreateOrder',
  addOnToOrder: 'AddOn',
  createCart: 'CreateCart',
  checkoutCart: 'CheckoutCart',
};

/**
 * The purchase a command makes, in the policy's terms. A checkout by cart id carries no lines: they are read from
 * the cart (check.ts) and judged with `cartLines`.
 */
export function purchaseOf(command: Command, idempotencyKeyPath: string): PurchaseToJudge {
  const { ids, body } = requestPrefixes(idempotencyKeyPath);
  const paths: PurchaseToJudge['paths'] = {
    customer: `${ids}/customerId`,
    totalSeats: `${body}/lineItems`,
    lineCount: `${body}/lineItems`,
  };
  if (command.operation === 'createOrder' || command.operation === 'addOnToOrder') {
    const order =
      command.operation === 'createOrder'
        ? (command.input as CreateOrderRequest)
        : (command.input as { order: CreateOrderRequest }).order;
    if (command.operation === 'addOnToOrder') paths.order = `${ids}/orderId`;
    return {
      actions: [ACTIONS[command.operation]],
      customerId: command.customerId,
      paths,
      lines: order.lineItems.map((item, index) => {
        const at = `${body}/lineItems/${index}`;
        return {
          line: policyLine({
            id: item.offerId,
            quantity: item.quantity,
            ...(item.termDuration === undefined ? {} : { term: item.termDuration }),
            ...(order.billingCycle === undefined ? {} : { billingCycle: order.billingCycle }),
          }),
          paths: {
            product: `${at}/offerId`,
            sku: `${at}/offerId`,
            catalogId: `${at}/offerId`,
            quantity: `${at}/quantity`,
            term: `${at}/termDuration`,
            // An order's billing cycle is the order's, not the line's.
            billingCycle: `${body}/billingCycle`,
            trial: `${body}/billingCycle`,
          },
          at,
          origin: `line item ${index}`,
        };
      }),
    };
  }
  if (command.operation === 'createCart') {
    const cart = command.input as CreateCartRequest;
    return {
      actions: cart.checkout ? ['CreateCart', 'CheckoutCart'] : ['CreateCart'],
      customerId: command.customerId,
      paths: { ...paths, cart: `${body}/checkout` },
      lines: cart.lineItems.map((item, index) => {
        const at = `${body}/lineItems/${index}`;
        return {
          line: policyLine({
            id: item.catalogItemId,
            quantity: item.quantity,
            ...(item.termDuration === undefined ? {} : { term: item.termDuration }),
            billingCycle: item.billingCycle,
          }),
          paths: {
            product: `${at}/catalogItemId`,
            sku: `${at}/catalogItemId`,
            catalogId: `${at}/catalogItemId`,
            quantity: `${at}/quantity`,
            term: `${at}/termDuration`,
            billingCycle: `${at}/billingCycle`,
            trial: `${at}/billingCycle`,
          },
          at,
          origin: `line item ${index}`,
        };
      }),
    };
  }
  return {
    actions: [ACTIONS[command.operation]],
    customerId: command.customerId,
    paths: { customer: paths.customer, cart: `${ids}/cartId` },
    lines: [],
  };
}

/** The cart's own lines (read back from Partner Center) as the lines of a checkout: each points at the cart id. */
export function cartLines(
  purchase: PurchaseToJudge,
  items: { catalogItemId?: string; quantity?: number; termDuration?: string | null; billingCycle?: string }[],
): PurchaseToJudge {
  const cart = purchase.paths.cart ?? '';
  return {
    ...purchase,
    paths: { ...purchase.paths, totalSeats: cart, lineCount: cart },
    lines: items.map((item, index) => ({
      line: policyLine({
        id: item.catalogItemId ?? '',
        quantity: item.quantity ?? 0,
        ...(item.termDuration ? { term: item.termDuration } : {}),
        // Partner Center writes cycles in PascalCase or snake case; the policy reads the snake case we send.
        ...(item.billingCycle
          ? { billingCycle: item.billingCycle.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() }
          : {}),
      }),
      paths: {},
      at: cart,
      origin: `cart line ${index}`,
    })),
  };
}

/** The Cedar requests of a purchase: every line under every action, the request's totals in each. */
export function requestsOf(purchase: PurchaseToJudge, principal: Principal): AuthorizationRequest[] {
  const totalSeats = purchase.lines.reduce((sum, { line }) => sum + line.quantity, 0);
  const lineCount = purchase.lines.length;
  const resource = uid('Customer', purchase.customerId.toLowerCase());
  return purchase.actions.flatMap((action) =>
    purchase.lines.map(({ line }) => ({
      principal: principal.uid,
      action: actionUid(action),
      resource,
      context: { line, lineCount, totalSeats },
    })),
  );
}

const key = (entity: EntityUid) => `${entity.type}\u0000${entity.id}`;

/**
 * The entities a request needs: the principal and the customer (from the entity store when it names them, else
 * bare), the principal's token groups, and every group above them. Only these are sent, however many the store
 * holds (Verified Permissions takes at most 100 principals and 100 resources per call).
 */
export function entitiesFor(store: readonly EntityJson[], principal: Principal, resource: EntityUid): EntityJson[] {
  const byUid = new Map(store.map((entity) => [key(entity.uid), entity]));
  const found = new Map<string, EntityJson>();
  const add = (entity: EntityJson) => {
    found.set(key(entity.uid), entity);
    for (const parent of entity.parents) visit(parent);
  };
  const visit = (ref: EntityUid) => {
    if (found.has(key(ref))) return;
    const known = byUid.get(key(ref));
    if (known) add(known);
  };
  const known = byUid.get(key(principal.uid));
  add({
    uid: principal.uid,
    attrs: known?.attrs ?? {},
    parents: [
      ...(known?.parents ?? []),
      ...principal.tokenGroups.filter((g) => !known?.parents.some((p) => key(p) === key(g))),
    ],
  });
  for (const group of principal.tokenGroups) {
    if (!found.has(key(group))) add(byUid.get(key(group)) ?? { uid: group, attrs: {}, parents: [] });
  }
  if (!found.has(key(resource))) add(byUid.get(key(resource)) ?? { uid: resource, attrs: {}, parents: [] });
  return [...found.values()];
}
