// Keeps the app+user refresh token alive: redeems it on a schedule and, when Entra ID hands back a new one, writes it
// to the secret as a new version. Only the keeper writes the secret. The write is optimistic: its ClientRequestToken
// is derived from the version it read, so two keepers that read the same version cannot both write — the second is
// refused, re-reads, and keeps the first one's token (both are valid: Entra does not revoke the older token). And
// before writing, it checks that the version it read is still AWSCURRENT: a version stored meanwhile (a person's
// re-consent or new client secret) is never overwritten with the JSON read before it.
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type Credentials, parseCredentials } from './credentials.js';
import { ageOf, type CredentialsReport, checkCredentials } from './credentials-health.js';
import { CredentialsError } from './errors.js';
import type { Fetch } from './transport.js';
import { uuidv5 } from './uuid.js';

export interface KeeperOptions {
  client: SecretsManagerClient;
  secretId: string;
  authorityUrl: string;
  fetch?: Fetch;
  now?: () => number;
}

export interface KeeperReport extends CredentialsReport {
  /** A new secret version holds the rotated refresh token. */
  rotated: boolean;
  /** Another writer stored a version after this one was read (or rotated from it first); that version was kept. */
  conflict?: boolean;
  previousVersionId?: string;
}

interface StoredSecret {
  raw: Record<string, unknown>;
  credentials: Credentials;
}

async function readSecret(options: KeeperOptions): Promise<StoredSecret> {
  let secret: { SecretString?: string; VersionId?: string; CreatedDate?: Date };
  try {
    secret = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
  } catch (error) {
    throw new CredentialsError(
      `Could not read the Partner Center credentials secret (${(error as Error).name})`,
      undefined,
      true,
      error,
    );
  }
  const json = secret.SecretString ?? '';
  const credentials = parseCredentials(json, secret.VersionId ?? 'unknown', secret.CreatedDate);
  return { raw: JSON.parse(json) as Record<string, unknown>, credentials };
}

const isResourceExists = (error: unknown) => (error as { name?: string }).name === 'ResourceExistsException';

/** The version labelled AWSCURRENT now (DescribeSecret: no secret value is read or decrypted). */
async function currentVersionId(options: KeeperOptions): Promise<string | undefined> {
  try {
    const described = await options.client.send(new DescribeSecretCommand({ SecretId: options.secretId }));
    return Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  } catch (error) {
    throw new CredentialsError(
      `Could not check the current version of the Partner Center credentials secret (${(error as Error).name})`,
      undefined,
      true,
      error,
    );
  }
}

export async function keepCredentialsAlive(options: KeeperOptions): Promise<KeeperReport> {
  const now = options.now ?? Date.now;
  const stored = await readSecret(options);
  const report = await checkCredentials({
    credentials: stored.credentials,
    authorityUrl: options.authorityUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    now,
  });
  const { granted, ...checked } = report;
  if (!granted) {
    throw new CredentialsError(
      report.problem?.message ?? 'Entra ID refused the credentials',
      report.problem,
      report.problem?.unavailable,
    );
  }
  const next = granted.refreshToken;
  if (!next || next === stored.credentials.refreshToken) return { ...checked, rotated: false };

  // The same JSON, only the refresh token replaced; Secrets Manager moves AWSPREVIOUS to the old version, which is
  // the rollback point.
  const versionId = uuidv5(`token-keeper|${options.secretId}|${stored.credentials.version}`);
  const conflict = async (): Promise<KeeperReport> => {
    const winner = await readSecret(options);
    return {
      ...checked,
      rotated: false,
      conflict: true,
      secretVersionId: winner.credentials.version,
      previousVersionId: stored.credentials.version,
      ...ageOf(winner.credentials, now()),
    };
  };
  // Someone stored a version after ours was read: writing ours now would put the old JSON (client secret included)
  // back over theirs. Theirs is kept and the refresh token just redeemed is dropped (theirs is the one to use). What
  // is left is the few milliseconds between this check and the write.
  if ((await currentVersionId(options)) !== stored.credentials.version) return conflict();
  try {
    await options.client.send(
      new PutSecretValueCommand({
        SecretId: options.secretId,
        ClientRequestToken: versionId,
        SecretString: JSON.stringify({ ...stored.raw, refreshToken: next }),
        VersionStages: ['AWSCURRENT'],
      }),
    );
  } catch (error) {
    if (!isResourceExists(error)) {
      throw new CredentialsError(
        `Could not write the rotated refresh token (${(error as Error).name})`,
        undefined,
        true,
        error,
      );
    }
    return conflict();
  }
  return {
    ...checked,
    rotated: true,
    secretVersionId: versionId,
    previousVersionId: stored.credentials.version,
    ...ageOf({ refreshToken: next, createdAt: new Date(now()) }, now()),
  };
}
