// How alive the Partner Center credentials are: the refresh-token keeper's view and the health check's.
// Entra ID retires a refresh token after 90 days without use; every redemption returns a new one.
import { type GrantedToken, redeemToken } from './auth.js';
import type { Credentials } from './credentials.js';
import { CredentialsError } from './errors.js';
import type { CredentialsReport } from './schemas/health.js';
import type { Fetch } from './transport.js';

export type { CredentialsReport };

export const INACTIVITY_LIMIT_DAYS = 90;
const DAY_MS = 86_400_000;

export interface CredentialsAge {
  /** When the stored refresh token was written (its secret version's creation). */
  refreshTokenLastRotated?: string;
  refreshTokenAgeDays?: number;
  daysUntilInactivityExpiry?: number;
}

export function ageOf(credentials: Pick<Credentials, 'refreshToken' | 'createdAt'>, now: number): CredentialsAge {
  if (!credentials.refreshToken || !credentials.createdAt) return {};
  const age = (now - credentials.createdAt.getTime()) / DAY_MS;
  return {
    refreshTokenLastRotated: credentials.createdAt.toISOString(),
    refreshTokenAgeDays: Math.round(age * 100) / 100,
    daysUntilInactivityExpiry: Math.max(0, Math.round((INACTIVITY_LIMIT_DAYS - age) * 100) / 100),
  };
}

/** Redeems a fresh token (nothing cached, nothing stored) and reports on the credentials it used. */
export async function checkCredentials(options: {
  credentials: Credentials;
  authorityUrl: string;
  fetch?: Fetch;
  now?: () => number;
}): Promise<CredentialsReport & { granted?: GrantedToken }> {
  const { credentials } = options;
  const base = {
    authMode: credentials.refreshToken ? ('app+user' as const) : ('app-only' as const),
    secretVersionId: credentials.version,
    ...ageOf(credentials, (options.now ?? Date.now)()),
  };
  try {
    const granted = await redeemToken({
      authorityUrl: options.authorityUrl,
      credentials,
      ...(credentials.refreshToken ? { refreshToken: credentials.refreshToken } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return { ...base, healthy: true, tokenAcquired: true, granted };
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    return {
      ...base,
      healthy: false,
      tokenAcquired: false,
      problem: { message: error.message, ...error.entra, unavailable: error.unavailable },
    };
  }
}
