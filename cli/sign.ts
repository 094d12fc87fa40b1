// SigV4 for the deployed API (IAM authorization on every route), with the AWS SDK's own signer and credential
// chain: signing is never hand-rolled, so canonicalisation, session tokens and SSO/role credentials behave exactly
// as in the AWS CLI and awscurl.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The SDK's credential provider shape; tests inject a fixed one, the CLI uses `defaultProvider()`. */
export type CredentialProvider = () => Promise<AwsCredentials>;

/** AWS endpoints (API Gateway default hosts, VPC endpoints, China partitions) are signed by default. */
export const isAwsHost = (hostname: string) => /\.amazonaws\.com(?:\.cn)?$/i.test(hostname);

/** `abc123.execute-api.eu-west-1.amazonaws.com` (or `…-vpce-….execute-api.eu-west-1.vpce.amazonaws.com`) → `eu-west-1`. */
export const regionFromHost = (hostname: string) =>
  /\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/i.exec(hostname)?.[1]?.toLowerCase();

export interface SignOptions {
  region: string;
  /** Default: the SDK's default chain (env, shared config/AWS_PROFILE, SSO, web identity, container, IMDS). */
  credentials?: CredentialProvider;
  /** Fixed signing time, for tests. */
  signingDate?: Date;
}

/**
 * The headers to send for this request, SigV4-signed for `execute-api`: `authorization`, `x-amz-date`,
 * `x-amz-content-sha256` (the body's hash) and `x-amz-security-token` with temporary credentials. `host` is signed
 * but not returned: fetch derives it from the same URL.
 */
export async function signRequest(
  url: URL,
  request: { method: string; headers: Record<string, string>; body?: string },
  options: SignOptions,
): Promise<Record<string, string>> {
  // Loaded only when signing: the credential chain pulls in SSO/STS clients that local use never needs.
  const credentials = options.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  const signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials, sha256: Sha256 });
  const unsigned = new HttpRequest({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...request.headers, host: url.host },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  const signed = await signer.sign(unsigned, options.signingDate ? { signingDate: options.signingDate } : {});
  const { host: _host, ...headers } = signed.headers;
  return headers;
}
