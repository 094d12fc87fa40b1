import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { bundling, entryOf } from '../../infra/bundling.js';
import { PartnerOrdersStack, type PartnerOrdersStackProps } from '../../infra/stack.js';

/** A stack synthesised without bundling (CDK stubs the assets): fast enough for every infra test. */
export function synth(props: PartnerOrdersStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PartnerOrdersStack(app, 'Test', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The source files esbuild puts in the bundle of `functions/<name>` (bundled as infra/bundling.ts says, not written). */
export async function bundleInputs(name: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entryOf(name)],
    bundle: true,
    write: false,
    metafile: true,
    platform: bundling.platform,
    format: bundling.format,
    target: bundling.target,
    mainFields: [...bundling.mainFields],
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());

/** The template's Lambda functions by logical id. */
export const functionsOf = (template: Template) => template.findResources('AWS::Lambda::Function');

/** The logical id of the function deployed from `functions/<name>` (not its role). */
export const functionId = (template: Template, name: string) =>
  Object.keys(functionsOf(template)).find((id) => id.startsWith(pascal(name)) && !id.includes('Role')) as string;

/** The function's environment variables. */
export const envOf = (template: Template, name: string) =>
  functionsOf(template)[functionId(template, name)]?.Properties.Environment.Variables;

/** Every IAM action granted to the function's role. */
export function actionsOf(template: Template, name: string): string[] {
  const role = functionsOf(template)[functionId(template, name)]?.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
    .flatMap((statement) => [statement.Action].flat());
}
