import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PartnerOrdersStack, type PartnerOrdersStackProps } from '../../infra/stack.js';

/** A stack synthesised without bundling (CDK stubs the assets): fast enough for every infra test. */
export function synth(props: PartnerOrdersStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PartnerOrdersStack(app, 'Test', props);
  return { app, stack, template: Template.fromStack(stack) };
}
