// The pre-flight's two refusals. Both are raised before anything is sent to Partner Center.
import type { FieldError } from '../errors.js';

/** A line asks for something the customer's catalog does not offer (422 `catalog-mismatch`). */
export class CatalogMismatchError extends Error {
  override readonly name = 'CatalogMismatchError';
  constructor(readonly errors: FieldError[]) {
    super(
      errors.length === 1
        ? `${errors[0]?.path}: ${errors[0]?.message}`
        : `${errors.length} fields do not match the customer's catalog.`,
    );
  }
}

/** The catalog could not be read, and the deployment fails closed (PREFLIGHT=on): 503 `catalog-unavailable`. */
export class CatalogUnavailableError extends Error {
  override readonly name = 'CatalogUnavailableError';
  constructor(
    readonly reason: string,
    /** Seconds Partner Center asked to wait (a 429's Retry-After), or a short default. */
    readonly retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super(`The customer's catalog could not be read (${reason}).`, { cause });
  }
}
