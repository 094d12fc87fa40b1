// A time limit as an AbortSignal whose timer is cleared when the work is done. AbortSignal.timeout() keeps its timer
// (and a weak reference) for the whole limit after every call, which in a warm container is every request.

/** What a timed-out signal is aborted with: the TimeoutError DOMException AbortSignal.timeout() would give. */
export const timeoutReason = () => new DOMException('The operation was aborted due to timeout', 'TimeoutError');

export interface TimeLimit {
  signal: AbortSignal;
  /** The work is done: the timer goes. */
  clear(): void;
  /** The work is over, whatever still runs under the signal: the timer goes and the signal is aborted. */
  end(): void;
}

export function timeLimit(ms: number): TimeLimit {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeoutReason()), Math.max(1, ms));
  return {
    signal: controller.signal,
    clear: () => clearTimeout(timer),
    end: () => {
      clearTimeout(timer);
      controller.abort();
    },
  };
}
