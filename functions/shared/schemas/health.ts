// The credentials health report (GET /health/credentials, `partner-orders credentials check`, the token keeper's log).
import * as z from 'zod/mini';

export const CredentialsReport = z.object({
  /** A token was acquired with the stored credentials just now. */
  healthy: z.boolean(),
  authMode: z.enum(['app+user', 'app-only']),
  tokenAcquired: z.boolean(),
  /** The Secrets Manager version the check used (an id, not a value). */
  secretVersionId: z.string(),
  /** When the stored refresh token was written: its secret version's creation (app+user only). */
  refreshTokenLastRotated: z.optional(z.string()),
  refreshTokenAgeDays: z.optional(z.number()),
  /** Entra ID retires a refresh token after 90 days without use. */
  daysUntilInactivityExpiry: z.optional(z.number()),
  /** What Entra said when it refused: its error and AADSTS code, never a value. */
  problem: z.optional(
    z.object({
      message: z.string(),
      error: z.optional(z.string()),
      aadsts: z.optional(z.string()),
      unavailable: z.boolean(),
    }),
  ),
});
export type CredentialsReport = z.infer<typeof CredentialsReport>;

/** The health check takes no parameters. */
export const NoPathParameters = z.strictObject({});
