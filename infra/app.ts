// `cdk synth` / `cdk deploy`. The deploy options come from context (infra/context.ts lists them), never from
// lookups, so synth runs offline without credentials.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from './context.js';
import { PartnerOrdersStack } from './stack.js';

const app = new App();
const stackName = app.node.tryGetContext('stackName')?.toString() || 'PartnerOrders';
new PartnerOrdersStack(
  app,
  stackName,
  stackPropsFromContext((key) => app.node.tryGetContext(key)),
);

// cdk-nag's AWS Solutions rules fail the synth on any finding not acknowledged on its resource.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
