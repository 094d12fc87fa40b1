// Partner Center's paged collections: a page answers `links.next` (`uri` relative to the API root, with or without
// `/v1`, and the `MS-ContinuationToken` header to send with it). A list route hands the next page to its caller as one
// opaque `continuationToken` (base64url of the link), and takes it back only for the same customer's same list, so a
// token can never make this service read another path.
import type { PartnerCenterRequest } from './client.js';

export interface NextLink {
  uri?: string | null;
  headers?: readonly { key: string; value: string }[] | null;
}

/** The next page's request, when the link is one of `listPath`'s pages (case-insensitive); undefined otherwise. */
export function nextPageRequest(next: NextLink | null | undefined, listPath: string): PartnerCenterRequest | undefined {
  const uri = next?.uri;
  if (!uri) return undefined;
  const path = uri.startsWith('/v1/') ? uri : uri.startsWith('/') ? `/v1${uri}` : undefined;
  const pathOnly = path?.split('?')[0]?.replace(/\/$/, '').toLowerCase();
  if (path === undefined || pathOnly !== listPath.toLowerCase() || /[\s#]|\/\/|\.\./.test(path)) return undefined;
  const token = next?.headers?.find((header) => header.key.toLowerCase() === 'ms-continuationtoken')?.value;
  return { method: 'GET', path, ...(token === undefined ? {} : { headers: { 'MS-ContinuationToken': token } }) };
}

/** The caller's handle on the next page. */
export const encodeContinuation = (request: PartnerCenterRequest) =>
  Buffer.from(JSON.stringify([request.path, request.headers?.['MS-ContinuationToken'] ?? null])).toString('base64url');

/** The request a caller's continuation token stands for, when it is one of `listPath`'s pages; undefined otherwise. */
export function decodeContinuation(token: string, listPath: string): PartnerCenterRequest | undefined {
  try {
    const [path, header] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof path !== 'string' || (header !== null && typeof header !== 'string')) return undefined;
    return nextPageRequest(
      { uri: path, headers: header === null ? [] : [{ key: 'MS-ContinuationToken', value: header }] },
      listPath,
    );
  } catch {
    return undefined;
  }
}
