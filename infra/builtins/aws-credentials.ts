// The AWS SDK's default credential chain as a deployed function needs it (infra/bundling.ts, `alias`: this module
// stands in for @aws-sdk/credential-provider-node in the Lambda bundles only; the local server, the tests and the CLI
// keep the full chain). Lambda gives a function its role's session credentials in environment variables
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): the chain's first link, and the only one that runs
// there. The others (SSO, shared ini files, credential_process, web identity, container and instance metadata) and the
// STS and SSO clients they build never run in Lambda, and were ~130 KB of every bundle (docs/performance.md, "Cold
// start").
import { fromEnv } from '@aws-sdk/credential-provider-env';

const fromLambdaEnvironment = fromEnv();
type Provider = typeof fromLambdaEnvironment;

/**
 * One provider for every client of the function (DynamoDB, Secrets Manager, Verified Permissions, ...), whatever each
 * passes (`profile` and the like name sources Lambda does not have). It reads the environment on each call, so an
 * expiry (AWS_CREDENTIAL_EXPIRATION, when set) is honoured: each client's signer calls it again before the credentials
 * it holds expire, as with the default chain.
 */
const provider: Provider = async () => {
  try {
    return await fromLambdaEnvironment();
  } catch (cause) {
    // Named as the SDK's chain names its failure, which is what a log line shows of it (never the message).
    throw Object.assign(
      new Error(
        'No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): a deployed function reads ' +
          'its role from there only (infra/builtins/aws-credentials.ts)',
        { cause },
      ),
      { name: 'CredentialsProviderError' },
    );
  }
};

export const defaultProvider = (_init?: unknown): Provider => provider;
