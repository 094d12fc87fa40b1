// The one way this service talks to Partner Center. Retries are where duplicate purchases come from, so the rules
// are strict: the same MS-RequestId on every attempt of a call (Partner Center's idempotency key), retries only
// where the request cannot have been refused on its merits, and never past the caller's deadline.
import { randomUUID } from 'node:crypto';
import type { AccessToken } from '../auth.js';
import { AmbiguousAttemptError, PartnerCenterError, type UpstreamIds, UpstreamUnavailableError } from '../errors.js';
import { timeLimit } from '../time-limit.js';
import { type Fetch, type FetchInit, type FetchResponse, nodeFetch } from '../transport.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT';

export interface PartnerCenterRequest {
  method: HttpMethod;
  /** Path below the API root, starting with `/v1/`; path segments already encoded. */
  path: string;
  body?: unknown;
  /** Extra request headers (a paged read's `MS-ContinuationToken`); never one the client sets itself. */
  headers?: Record<string, string>;
}

export interface CallOptions {
  correlationId: string;
  /** Reused on every attempt; derived from an idempotency key by callers that have one. */
  requestId?: string;
  /** Epoch ms after which no attempt starts and no wait is begun. */
  deadline: number;
  /**
   * For purchases: called before every attempt is sent, so the attempt is on record before it can place anything;
   * and the first attempt whose outcome is unknown (no answer, a 5xx, an unreadable 2xx) ends the call with an
   * AmbiguousAttemptError instead of being sent again, so that the caller can look for what it placed first.
   */
  purchase?: { beforeAttempt(): Promise<void> };
}

export interface PartnerCenterResponse {
  status: number;
  body: unknown;
  ids: UpstreamIds;
  attempts: number;
}

/** What a dry run shows: the exact request that would go out, with the credential redacted. */
export interface DescribedRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export interface TokenSource {
  /** `deadline`: rejects (CredentialsError, unavailable) when no token is ready by then. */
  get(options?: { rejected?: AccessToken; deadline?: number }): Promise<AccessToken>;
}

export interface RetryEvent {
  attempt: number;
  reason: string;
  delayMs: number;
  ids: UpstreamIds;
}

export interface PartnerCenterClientOptions {
  baseUrl: string;
  tokens: TokenSource;
  applicationName?: string;
  fetch?: Fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Bound for one attempt (connect + full response). */
  attemptTimeoutMs?: number;
  /** Attempts for transport errors, timeouts, 5xx and 429 (the first attempt included). */
  maxAttempts?: number;
  /** First backoff step; later steps triple (0.25 s, 0.75 s, 2.25 s…), with jitter. */
  baseDelayMs?: number;
  onRetry?: (event: RetryEvent) => void;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `Retry-After` is seconds or an HTTP date; undefined when absent or unreadable. */
export function givenRetryAfterSeconds(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** How long to wait on a 429: its `Retry-After`, else "soon" (1 s). */
export const retryAfterSeconds = (header: string | null, now: number): number =>
  givenRetryAfterSeconds(header, now) ?? 1;

interface ErrorBody {
  code?: unknown;
  description?: unknown;
  message?: unknown;
}

const errorDetails = (body: unknown) => {
  const error = (body && typeof body === 'object' ? body : {}) as ErrorBody;
  const code = typeof error.code === 'number' || typeof error.code === 'string' ? String(error.code) : undefined;
  const text = typeof error.description === 'string' ? error.description : error.message;
  return { code, description: typeof text === 'string' ? text.slice(0, 1024) : undefined };
};

/** A failure before a complete, readable answer arrived: the same request may safely go again. */
class TransientFailure extends Error {
  constructor(
    readonly reason: string,
    readonly timedOut: boolean,
    cause?: unknown,
    /** Whether Partner Center answered at all (an unreadable body) or the request may still be running there. */
    readonly answered = false,
    /** The connection was never made: the request cannot have reached Partner Center. */
    readonly notSent = false,
  ) {
    super(reason, { cause });
  }
}

/** Connection errors that happen before a single byte of the request has left this machine. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

function neverSent(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as Error).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
  }
  return false;
}

export class PartnerCenterClient {
  private readonly fetch: Fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: PartnerCenterClientOptions) {
    this.fetch = options.fetch ?? nodeFetch;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? delay;
  }

  describe(request: PartnerCenterRequest, call: Omit<CallOptions, 'deadline'>): DescribedRequest {
    const ids = { requestId: call.requestId ?? '(generated when sent)', correlationId: call.correlationId };
    return {
      method: request.method,
      url: this.url(request),
      headers: this.headers(request, ids, 'Bearer [redacted]'),
      ...(request.body === undefined ? {} : { body: request.body }),
    };
  }

  /** Sends one logical call; resolves with a 2xx answer or throws a typed error. */
  async send(request: PartnerCenterRequest, call: CallOptions): Promise<PartnerCenterResponse> {
    const ids: UpstreamIds = { requestId: call.requestId ?? randomUUID(), correlationId: call.correlationId };
    const maxAttempts = this.options.maxAttempts ?? 4;
    // Reading the secret and redeeming a token count against the call's deadline too.
    let token = await this.options.tokens.get({ deadline: call.deadline });
    let reauthenticated = false;
    let throttles = 0;
    let lastFailure: TransientFailure | undefined;

    for (let attempt = 1; ; attempt++) {
      const remaining = call.deadline - this.now();
      if (remaining <= 0) throw new UpstreamUnavailableError(ids, true, attempt - 1, lastFailure);

      let response: FetchResponse;
      let body: unknown;
      let budget = remaining;
      if (call.purchase) {
        await call.purchase.beforeAttempt();
        // The record may have taken a while (store retries, a frozen invocation resumed later): the deadline is
        // checked again, so that no purchase leaves after it.
        budget = call.deadline - this.now();
        if (budget <= 0) throw new UpstreamUnavailableError(ids, true, attempt - 1, lastFailure);
      }
      try {
        ({ response, body } = await this.attempt(request, ids, token, Math.min(budget, this.attemptTimeout)));
      } catch (error) {
        if (!(error instanceof TransientFailure)) throw error;
        if (call.purchase && !error.notSent) {
          throw new AmbiguousAttemptError(ids, error.answered, attempt, error.reason, undefined, error);
        }
        lastFailure = error;
        await this.backOff(attempt, maxAttempts, error.reason, ids, call.deadline, () => {
          throw new UpstreamUnavailableError(ids, error.timedOut, attempt, error);
        });
        continue;
      }

      if (response.status >= 200 && response.status < 300)
        return { status: response.status, body, ids, attempts: attempt };

      const { code, description } = errorDetails(body);
      if (response.status === 401 && !reauthenticated) {
        // Our token or credentials went stale (rotation, revocation): re-read them once and try again.
        reauthenticated = true;
        token = await this.options.tokens.get({ rejected: token, deadline: call.deadline });
        attempt--;
        continue;
      }
      if (response.status === 429) {
        const given = givenRetryAfterSeconds(response.headers.get('retry-after'), this.now());
        // Partner Center's guidance: wait Retry-After, and "if 429 again, exponential backoff honoring Retry-After"
        // (1, 2, 4 s at least): every retry counts against the limit too.
        throttles++;
        const wait = Math.max(given ?? 1, 2 ** (throttles - 1));
        // Without a Retry-After the error carries none: the event path then backs off on its own (events.ts).
        const throttled = new PartnerCenterError(429, ids, code, description, given);
        if (attempt >= maxAttempts || this.now() + wait * 1000 >= call.deadline) throw throttled;
        this.options.onRetry?.({ attempt, reason: 'throttled (429)', delayMs: wait * 1000, ids });
        await this.sleep(wait * 1000);
        continue;
      }
      if (response.status >= 500) {
        const failure = new PartnerCenterError(response.status, ids, code, description);
        if (call.purchase) throw new AmbiguousAttemptError(ids, true, attempt, `HTTP ${response.status}`, failure);
        await this.backOff(attempt, maxAttempts, `HTTP ${response.status}`, ids, call.deadline, () => {
          throw failure;
        });
        continue;
      }
      throw new PartnerCenterError(response.status, ids, code, description);
    }
  }

  private get attemptTimeout() {
    return this.options.attemptTimeoutMs ?? 20_000;
  }

  private async backOff(
    attempt: number,
    maxAttempts: number,
    reason: string,
    ids: UpstreamIds,
    deadline: number,
    giveUp: () => never,
  ): Promise<void> {
    if (attempt >= maxAttempts) giveUp();
    const step = (this.options.baseDelayMs ?? 250) * 3 ** (attempt - 1);
    const wait = Math.round(step / 2 + Math.random() * (step / 2));
    if (this.now() + wait >= deadline) giveUp();
    this.options.onRetry?.({ attempt, reason, delayMs: wait, ids });
    await this.sleep(wait);
  }

  private async attempt(request: PartnerCenterRequest, ids: UpstreamIds, token: AccessToken, timeoutMs: number) {
    let response: FetchResponse;
    let text: string;
    const init: FetchInit = {
      method: request.method,
      headers: this.headers(request, ids, `Bearer ${token.value}`),
      // A redirect is not part of the API; following one could carry the token elsewhere.
      redirect: 'manual',
    };
    if (request.body !== undefined) init.body = JSON.stringify(request.body);
    // Its timer cleared as soon as the answer is read (time-limit.ts: 20 s × every request of a warm container).
    const limit = timeLimit(timeoutMs);
    init.signal = limit.signal;
    try {
      response = await this.fetch(this.url(request), init);
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      const notSent = !timedOut && neverSent(error);
      throw new TransientFailure(
        timedOut ? 'attempt timed out' : notSent ? 'connection refused' : 'connection failed',
        timedOut,
        error,
        false,
        notSent,
      );
    } finally {
      limit.clear();
    }
    if (text === '') return { response, body: undefined };
    try {
      return { response, body: JSON.parse(text) as unknown };
    } catch (error) {
      // A cut or garbled success body says nothing about what happened: ask again with the same MS-RequestId,
      // which Partner Center answers with the first result instead of acting twice.
      if (response.ok) throw new TransientFailure('unreadable response body', false, error, true);
      return { response, body: undefined };
    }
  }

  private url(request: PartnerCenterRequest) {
    return `${this.options.baseUrl}${request.path}`;
  }

  private headers(request: PartnerCenterRequest, ids: UpstreamIds, authorization: string): Record<string, string> {
    return {
      ...request.headers,
      Authorization: authorization,
      Accept: 'application/json',
      ...(request.method === 'GET' ? {} : { 'Content-Type': 'application/json' }),
      'MS-RequestId': ids.requestId,
      'MS-CorrelationId': ids.correlationId,
      'MS-Contract-Version': 'v1',
      'MS-PartnerCenter-Application': this.options.applicationName ?? 'partner-orders',
    };
  }
}
