// The part of `fetch` that the Partner Center and Entra ID calls use, over node:http / node:https (the modules the AWS
// SDK already loads). `fetch` is undici, a library Node compiles on first use: ~40 ms of CPU on a cold start, more
// than any of our own code (docs/performance.md, "Cold start"). Same contract where the callers rely on it: an abort
// rejects with the signal's reason (a TimeoutError stays one), a connection that never opened rejects with the
// socket's error code (ECONNREFUSED… for neverSent) while, and only while, the connection was never open (an error on
// an open connection loses its code: an EHOSTUNREACH can end a connection the request was written to), redirects are answered, not followed, and a body cut short
// rejects rather than resolving with part of it. Tests may still pass any `fetch` (the options' `fetch`).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  signal?: AbortSignal;
  /** A redirect is answered, never followed (with `fetch`, 'manual' says so). */
  redirect?: 'manual';
}

/** What the callers read of an answer: `fetch`'s Response satisfies it. */
export interface FetchResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** `fetch`, or anything that answers as it does for these calls. */
export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>;

const answer = (status: number, headers: IncomingHttpHeaders, bytes: Buffer): FetchResponse => ({
  status,
  ok: status >= 200 && status < 300,
  headers: {
    get: (name) => {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  },
  text: async () => bytes.toString('utf8'),
  json: async () => JSON.parse(bytes.toString('utf8')) as unknown,
  arrayBuffer: async () => new Uint8Array(bytes).buffer,
});

/**
 * A connection that failed once it was open: the request may have reached the server, whatever the socket's code says
 * (Linux ends an open TCP connection with EHOSTUNREACH when an ICMP unreachable arrived meanwhile). The code is kept
 * as `socketCode`, not `code`, so that nothing reads it as "never sent" (partner-center/client.ts `neverSent`).
 */
const lostOnceOpen = (error: unknown) =>
  Object.assign(new Error(`the connection failed after it opened: ${(error as Error)?.message ?? String(error)}`), {
    name: 'ConnectionLostError',
    socketCode: (error as { code?: unknown })?.code,
  });

export const nodeFetch: Fetch = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
    if (!send) return reject(new TypeError(`${target.protocol} is not http or https`));
    const { signal } = init;
    if (signal?.aborted) return reject(signal.reason);
    const body = init.body === undefined ? undefined : String(init.body);
    let settled = false;
    /** The TCP connection was made (or a kept-alive one reused): from then on a byte may have left. */
    let opened = false;
    const settle = (error: unknown, result?: FetchResponse) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      if (result) resolve(result);
      else reject(error);
    };
    const request = send(target, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => settle(lostOnceOpen(error)));
      response.on('close', () => {
        if (!response.complete) settle(Object.assign(new Error('the answer was cut short'), { code: 'ECONNRESET' }));
      });
      response.on('end', () =>
        settle(undefined, answer(response.statusCode ?? 0, response.headers, Buffer.concat(chunks))),
      );
    });
    const abort = () => {
      settle(signal?.reason);
      request.destroy(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
    request.on('socket', (socket) => {
      if (!socket.connecting) opened = true;
      else
        socket.once('connect', () => {
          opened = true;
        });
    });
    request.on('error', (error) => settle(opened ? lostOnceOpen(error) : error));
    request.end(body);
  });
