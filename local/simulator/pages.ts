// Paged lists (get-all-of-a-customer-s-orders, get-a-list-of-subscriptions): a page of `Store.listPageSize` items, a
// `links.next` carrying the `MS-ContinuationToken` header for the rest, and `totalCount` the whole list's size. The
// token is opaque to clients; it names its list, so one list's token is refused on another.
import { createHash } from 'node:crypto';
import { type HandlerResult, invalidInput, json, type RouteContext } from './http.js';
import { link } from './models.js';

const listId = (self: string) => createHash('sha256').update(self.toLowerCase()).digest('hex').slice(0, 16);

export function paged<T>(ctx: RouteContext, items: T[], self: string): HandlerResult {
  const size = ctx.store.listPageSize;
  let offset = 0;
  const token = ctx.headers['ms-continuationtoken'];
  if (token !== undefined) {
    let parsed: { offset?: unknown; list?: unknown } | undefined;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (typeof parsed?.offset !== 'number' || parsed.list !== listId(self)) {
      return { reply: invalidInput('The continuation token is not valid.') };
    }
    offset = parsed.offset;
  }
  const more = offset + size < items.length;
  const next = Buffer.from(JSON.stringify({ offset: offset + size, list: listId(self) })).toString('base64url');
  return {
    reply: json(200, {
      totalCount: items.length,
      items: items.slice(offset, offset + size),
      links: {
        self: link(self),
        ...(more
          ? {
              next: {
                uri: `${self}${self.includes('?') ? '&' : '?'}seekOperation=Next`,
                method: 'GET',
                headers: [{ key: 'MS-ContinuationToken', value: next }],
              },
            }
          : {}),
      },
      attributes: { objectType: 'Collection' },
    }),
  };
}
