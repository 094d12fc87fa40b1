import type { PartnerCenterError } from './models.js';
import type { Store } from './store.js';

/**
 * A response decided by a handler. The body is serialised at creation time so
 * that later mutations of stored resources cannot leak into an answer that has
 * already been given (replays must be byte-identical to the first answer).
 */
export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/**
 * What a mutating handler computed, split from the state change it implies.
 * The split lets the server answer without committing ('truncate' fault) or
 * commit without answering ('commit-then-drop' fault).
 */
export interface HandlerResult {
  reply: Reply;
  commit?: () => void;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body: JSON.stringify(value), headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers } };
}

export function pcError(status: number, code: number | string, description: string, data: unknown[] = []): Reply {
  const body: PartnerCenterError = { code, description, data, source: 'PartnerFD' };
  return json(status, body);
}

export const invalidInput = (...data: string[]): Reply => pcError(400, 800002, 'Invalid request input', data);
export const notFound = (): Reply => pcError(404, 1000, 'Not found');

export function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  return { ...reply, headers: { ...reply.headers, ...headers } };
}

/** What a Partner Center route handler gets; auth and customer checks are already done. */
export interface RouteParams {
  readonly customerId: string;
  /** Empty when the route has no such segment. */
  readonly orderId: string;
  readonly cartId: string;
  /** Catalog routes (catalog.ts). */
  readonly productId: string;
  readonly skuId: string;
  /** Subscription routes (subscriptions.ts). */
  readonly subscriptionId: string;
}

export interface RouteContext {
  params: RouteParams;
  query: URLSearchParams;
  body: string;
  headers: Readonly<Record<string, string>>;
  store: Store;
  now: number;
}
