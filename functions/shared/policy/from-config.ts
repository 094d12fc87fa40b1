// The policies a function asks, from its configuration: Verified Permissions' store (POLICY_STORE_ID, set by the
// stack on the functions that buy or read), or none, which fails every decision closed.
import type { Config } from '../config.js';
import { UNCONFIGURED_POLICY, VerifiedPermissionsEngine } from './avp.js';
import { ReadPolicy } from './read.js';

export const policyEngineFromConfig = (config: Pick<Config, 'policyStoreId'>) =>
  config.policyStoreId ? new VerifiedPermissionsEngine({ policyStoreId: config.policyStoreId }) : UNCONFIGURED_POLICY;

/** The read policy of the status and catalog functions. */
export const readPolicyFromConfig = (config: Pick<Config, 'policyStoreId'>) =>
  new ReadPolicy(policyEngineFromConfig(config));
