// The reference for the cold-start budget: the least any function that reads a secret must load.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const client = new SecretsManagerClient({});

export const handler = async (event: { secretId: string }) =>
  (await client.send(new GetSecretValueCommand({ SecretId: event.secretId }))).VersionId;
