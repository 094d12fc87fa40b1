// `order wait`: asks `GET /customers/{customerId}/orders/{orderId}` with backoff until the order is provisioned, is
// cancelled, or the timeout passes. A person sees each change of state on stderr; a script gets the last answer on
// stdout and an exit code that says which of the three happened.
import type { OrderWait } from './args.js';
import { type ApiResponse, EXIT, type ExitCode, Unreachable } from './http.js';

/** The pauses between asks: 5, 10, 20 and 30 seconds, then every minute. */
export const WAIT_BACKOFF_MS = [5_000, 10_000, 20_000, 30_000, 60_000] as const;

export interface WaitIo {
  say(line: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface Waited {
  /** The last answer, printed on stdout (none when the API was never reached). */
  response?: ApiResponse;
  code: ExitCode;
}

const stateOf = (response: ApiResponse) => {
  const value = response.json?.value as { state?: unknown } | undefined;
  return typeof value?.state === 'string' ? value.state : 'unknown';
};

export async function waitForOrder(command: OrderWait, ask: () => Promise<ApiResponse>, io: WaitIo): Promise<Waited> {
  const deadline = io.now() + command.timeoutMs;
  let last: ApiResponse | undefined;
  let lastCode: ExitCode = EXIT.unreachable;
  let seen: string | undefined;
  for (let round = 0; ; round++) {
    try {
      const response = await ask();
      last = response;
      const { status } = response;
      if (status >= 200 && status < 300) {
        const state = stateOf(response);
        if (state !== seen) io.say(`order ${command.orderId}: ${state}`);
        seen = state;
        if (state === 'provisioned') return { response, code: EXIT.ok };
        if (state === 'cancelled') return { response, code: EXIT.refused };
        lastCode = EXIT.timedOut;
      } else if (status >= 400 && status < 500 && status !== 429) {
        // No such order, a bad id, no permission: waiting will not change it.
        return { response, code: EXIT.refused };
      } else {
        io.say(`HTTP ${status} from the API; asking again`);
        lastCode = EXIT.failed;
      }
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      io.say(`${error.message}; asking again`);
      lastCode = EXIT.unreachable;
    }
    const pause = WAIT_BACKOFF_MS[Math.min(round, WAIT_BACKOFF_MS.length - 1)] ?? 60_000;
    const left = deadline - io.now();
    if (left <= 0) break;
    await io.sleep(Math.min(pause, left));
  }
  io.say(
    `order ${command.orderId} is ${seen ?? 'not known'} after ${Math.round(command.timeoutMs / 1000)} s: run 'order wait' again to wait longer`,
  );
  return { ...(last ? { response: last } : {}), code: lastCode };
}
