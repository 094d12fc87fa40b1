// What the stack deploys for undoing a purchase: the subscriptions function behind its six routes (the read on the
// read scope, the changes on the purchase scope), the purchase function's access and no more (the idempotency table
// for keys and the reduction's record, the policy store, no queue, no bus), the new EventBridge command types routed
// to the event path, and RefundWindowClosing's option on the tracker (off by default, checked at synth).
import { describe, expect, it } from 'vitest';
import { readLifecycleConfig } from '../../functions/shared/lifecycle/config.js';
import { routes } from '../../functions/shared/routes.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { FUNCTION_ACCESS, TRACKER_FUNCTION } from '../../infra/stack.js';
import { actionsOf, envOf, synth } from '../support/infra.js';

const { template } = synth();
const statementsOf = (name: string) => actionsOf(template, name);

describe('undoing a purchase, deployed', () => {
  it('serves six routes from the subscriptions function: the read on the read scope, the changes on purchase', () => {
    const mine = routes.filter((route) => route.function === 'subscriptions');
    expect(mine.map((route) => `${route.method} ${route.path}`)).toHaveLength(6);
    expect(mine.filter((route) => route.scope === 'read').map((route) => route.method)).toEqual(['GET']);
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    for (const route of mine) expect(keys).toContain(`${route.method} ${route.path}`);
  });

  it('may use the idempotency table and ask the purchase policy; no queue, no bus, no secret writes', () => {
    expect(FUNCTION_ACCESS.subscriptions).toEqual({ secret: 'read', idempotencyTable: true });
    const actions = statementsOf('subscriptions');
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'verifiedpermissions:IsAuthorized']),
    );
    expect(actions.some((a) => a.startsWith('sqs:') || a.startsWith('events:'))).toBe(false);
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
    expect(envOf(template, 'subscriptions')).toHaveProperty('POLICY_STORE_ID');
  });

  it('routes the subscription commands from the bus to the event path', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'))
      .map((rule) => rule.Properties.EventPattern?.['detail-type'])
      .filter(Boolean);
    expect(rules.flat()).toEqual(
      expect.arrayContaining([
        'CancelSubscription',
        'ReduceSeats',
        'ChangeAutoRenew',
        'ScheduleRenewalChange',
        'CancelScheduledChange',
      ]),
    );
  });

  it('warns before refund windows close only when asked (refundWarningHours), within the 168-hour window', () => {
    expect(envOf(template, TRACKER_FUNCTION)).not.toHaveProperty('REFUND_WARNING_HOURS');
    expect(readLifecycleConfig(envOf(template, TRACKER_FUNCTION)).refundWarningMs).toBeUndefined();
    const props = stackPropsFromContext((key) => (key === 'refundWarningHours' ? '24' : undefined));
    expect(props.afterPurchase).toEqual({ refundWarningHours: 24 });
    const custom = synth(props).template;
    expect(envOf(custom, TRACKER_FUNCTION)).toMatchObject({ REFUND_WARNING_HOURS: '24' });
    expect(readLifecycleConfig(envOf(custom, TRACKER_FUNCTION)).refundWarningMs).toBe(24 * 3_600_000);
    expect(() => synth({ afterPurchase: { refundWarningHours: 200 } })).toThrow(/refundWarningHours/);
  });
});
