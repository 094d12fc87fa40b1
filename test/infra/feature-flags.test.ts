// CDK's feature flags are set on purpose in cdk.json (every flag aws-cdk-lib recommends, as `cdk flags` lists them),
// and setting them changes nothing that matters in this stack: the same resources under the same logical ids, the
// stateful ones (table, queues, secret, key, log groups, bus, policy store) property for property, and every policy
// grants the same (@aws-cdk/aws-iam:minimizePolicies merges statements and sorts actions). docs/deploy.md says why.
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { PartnerOrdersStack } from '../../infra/stack.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
const synth = (context: Record<string, unknown>) =>
  Template.fromStack(
    new PartnerOrdersStack(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), 'Flags', {}),
  ).toJSON().Resources as Record<string, Resource>;

const STATEFUL = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::Events::EventBus',
  'AWS::VerifiedPermissions::PolicyStore',
]);

/**
 * What a policy document grants, one (effect, action, resource, principal, condition) at a time and sorted: the same
 * for a document whose statements minimizePolicies merged (and whose actions it sorted) as for the original.
 */
const grants = (resource: Resource) =>
  JSON.parse(JSON.stringify(resource), (_key, value) => {
    if (!value || typeof value !== 'object' || !Array.isArray(value.Statement)) return value;
    const list = (x: unknown) => (Array.isArray(x) ? x : [x]);
    const expanded = value.Statement.flatMap((statement: Record<string, unknown>) => {
      const { Action, Resource: target, Sid: _sid, ...rest } = statement;
      return list(Action).flatMap((action) =>
        list(target).map((one) => JSON.stringify({ ...rest, Action: action, Resource: one })),
      );
    });
    return { ...value, Statement: [...new Set(expanded)].sort() };
  });

describe('CDK feature flags (cdk.json)', () => {
  it('sets every flag aws-cdk-lib recommends, to its recommended value', () => {
    const recommended = (cxapi as unknown as { CURRENTLY_RECOMMENDED_FLAGS: Record<string, unknown> })
      .CURRENTLY_RECOMMENDED_FLAGS;
    expect(Object.keys(recommended).length).toBeGreaterThan(80);
    for (const [flag, value] of Object.entries(recommended)) expect(cdkJson.context[flag], flag).toEqual(value);
  });

  it('changes no resource, logical id, stateful property or granted permission', () => {
    const without = synth({});
    const withFlags = synth(cdkJson.context);
    expect(Object.keys(withFlags).sort()).toEqual(Object.keys(without).sort());
    for (const [id, resource] of Object.entries(without)) {
      const flagged = withFlags[id] as Resource;
      expect(flagged.Type, id).toBe(resource.Type);
      if (STATEFUL.has(resource.Type)) expect(flagged, id).toEqual(resource);
      else expect(grants(flagged), id).toEqual(grants(resource));
    }
  }, 180_000);
});
