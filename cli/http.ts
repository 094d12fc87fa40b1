// Sending the request and turning the answer into output and an exit code. The body goes to stdout untouched in
// meaning (re-indented JSON), so scripts can read the Order, Cart or problem exactly as the API wrote it.
import type { ApiRequest } from './request.js';

/** `timedOut`: `order wait` only, the order was not provisioned by its --timeout. */
export const EXIT = { ok: 0, refused: 1, usage: 2, failed: 3, unreachable: 4, timedOut: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON; absent otherwise (API Gateway and proxies can answer in other forms). */
  json?: { value: unknown };
}

/** The request got no answer. `maybeReceived` is false only when the connection was never made. */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';

  constructor(
    message: string,
    readonly maybeReceived: boolean,
  ) {
    super(message);
  }
}

/** Errors that prove nothing reached the server: the request cannot have been acted on. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function describe(error: unknown): { message: string; code?: string } {
  // fetch rejects with TypeError('fetch failed') and puts the system error in `cause` (sometimes an AggregateError).
  let cause: unknown = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  const code = (cause as { code?: unknown })?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' ? { message, code } : { message };
}

/** Sends the request with these (possibly signed) headers. Throws Unreachable when there is no answer. */
export async function send(
  request: ApiRequest,
  headers: Record<string, string>,
  fetchFn: typeof fetch,
): Promise<ApiResponse> {
  let response: Response;
  try {
    response = await fetchFn(request.url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      // A redirect would re-send a purchase somewhere else (and break the signature): report it instead.
      redirect: 'manual',
    });
  } catch (error) {
    const { message, code } = describe(error);
    throw new Unreachable(`could not reach ${request.url.origin}: ${message}`, !code || !NOT_CONNECTED.has(code));
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new Unreachable(`the connection was lost while reading the answer: ${describe(error).message}`, true);
  }
  const answer: ApiResponse = { status: response.status, headers: response.headers, text };
  try {
    if (text !== '') answer.json = { value: JSON.parse(text) };
  } catch {
    // Not JSON (a proxy's HTML error page, say): printed as it came.
  }
  return answer;
}

export function exitCodeFor(status: number): ExitCode {
  if (status >= 200 && status < 300) return EXIT.ok;
  if (status >= 400 && status < 500) return EXIT.refused;
  return EXIT.failed;
}

/** stdout: JSON indented by two spaces; other text as it came; nothing for an empty body. */
export function formatBody(response: ApiResponse): string {
  const text = response.json ? JSON.stringify(response.json.value, null, 2) : response.text;
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
