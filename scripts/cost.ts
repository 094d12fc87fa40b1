// `npm run cost`: what the stack costs, from its synthesized template (synthesized here, offline, bundling skipped,
// with cdk.json's context as `cdk synth` would): the monthly fixed cost and the cost per 1,000 purchases, by resource,
// with the prices used, their region and date, and what one purchase is assumed to do. docs/deploy.md holds the same
// table (test/docs/cost.test.ts keeps the two equal), the README its totals line.
//
// The prices are AWS list prices for us-east-1 as the author knew them; nothing here asks AWS. They change: check them
// on the pricing pages before relying on the figures (PRICES_AS_OF says when they were written down).
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stackPropsFromContext } from '../infra/context.js';
import { PartnerOrdersStack } from '../infra/stack.js';

export const PRICES_AS_OF =
  '2026-12-05 (written down from the AWS pricing pages as last known; not re-checked offline)';
export const REGION = 'us-east-1';

/** USD list prices, us-east-1, without free tiers. */
export const PRICES = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  httpApiRequest: 1.0 / 1e6,
  sqsRequest: 0.4 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  secret: 0.4,
  secretsApiCall: 0.05 / 1e4,
  kmsKey: 1.0,
  kmsRequest: 0.03 / 1e4,
  alarm: 0.1,
  customMetric: 0.3,
  logIngestGb: 0.5,
  verifiedPermissionsRequest: 5 / 1e6,
  eventBridgeEvent: 1.0 / 1e6,
} as const;

/** What one purchase (an order over HTTP, followed until provisioned) is assumed to cost in calls and bytes. */
export const PER_PURCHASE = {
  /** The purchase, and two status reads (`order wait`). */
  apiRequests: 3,
  /** create-order ~1.5 s (Partner Center's answer dominates), 2 status reads at 0.4 s, 3 tracking polls at 0.5 s. */
  lambdaInvocations: 6,
  lambdaSeconds: 1.5 + 2 * 0.4 + 3 * 0.5,
  /** 3 tracking polls, each a send, a receive and a delete. */
  sqsRequests: 9,
  /** Idempotency record (2), journal (3), intents (2), claim (1), key pointer (1), recent purchase (1), outcome ~2 KB (2). */
  dynamoWriteUnits: 12,
  /** Duplicate guard (1), journal and intents (3), tracking (1). */
  dynamoReadUnits: 5,
  /** A credentials read per purchase at most (cached 300 s per container; at volume far fewer). */
  secretsCalls: 1,
  /** Each credentials read decrypts with the secret's key. */
  kmsRequests: 1,
  /** Access log, function lines at INFO, tracking polls. */
  logBytes: 6 * 1024,
  /** One IsAuthorized call. */
  authorizations: 1,
  /** OrderProvisioned on the bus. */
  events: 1,
} as const;

/** Fixed monthly activity whatever is bought. */
const MONTH_SECONDS = 30 * 86_400;
/** Lambda's SQS pollers long-poll each queue: about 5 pollers × 3 receives a minute (an approximation; check). */
const ESM_RECEIVES_PER_MONTH = 5 * 3 * 60 * 24 * 30;
/** The custom metrics the scheduled functions publish (Powertools EMF) on every run: reconciler 2, keeper 2. */
const SCHEDULED_METRICS = 4;

export interface CostRow {
  resource: string;
  inTemplate: string;
  monthly: number;
  per1000: number;
  basis: string;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The template as `cdk synth` makes it by default (cdk.json's context), without bundling the functions. */
export function synthTemplate(): { Resources: Resources } {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new PartnerOrdersStack(
    app,
    'PartnerOrders',
    stackPropsFromContext((k) => app.node.tryGetContext(k)),
  );
  return Template.fromStack(stack).toJSON() as { Resources: Resources };
}

const rate = (text: string) => {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (!m) return 0;
  const unit = m[2]?.startsWith('minute') ? 60 : m[2]?.startsWith('hour') ? 3_600 : 86_400;
  return MONTH_SECONDS / (Number(m[1]) * unit);
};

export function costReport(template: { Resources: Resources }): CostRow[] {
  const all = Object.values(template.Resources);
  const of = (type: string) => all.filter((r) => r.Type === type);
  const functions = of('AWS::Lambda::Function');
  const memoryGb = Math.max(...functions.map((f) => Number(f.Properties?.MemorySize ?? 128))) / 1024;
  const arm = functions.every((f) => JSON.stringify(f.Properties?.Architectures) === '["arm64"]');
  if (!arm) throw new Error('cost: the prices here are for arm64 functions');
  const schedules = of('AWS::Events::Rule')
    .map((r) => String(r.Properties?.ScheduleExpression ?? ''))
    .filter(Boolean);
  const scheduledRuns = schedules.reduce((sum, s) => sum + rate(s), 0);
  const esm = of('AWS::Lambda::EventSourceMapping').length;
  const filters = of('AWS::Logs::MetricFilter').flatMap(
    (f) => (f.Properties?.MetricTransformations as { DefaultValue?: unknown; MetricName: string }[]) ?? [],
  );
  const alwaysPublished = new Set(filters.filter((t) => t.DefaultValue !== undefined).map((t) => t.MetricName)).size;
  const p = PER_PURCHASE;
  const k = 1000;
  const lambdaPer = (invocations: number, seconds: number) =>
    invocations * PRICES.lambdaRequest + seconds * memoryGb * PRICES.lambdaGbSecondArm;
  return [
    {
      resource: 'Lambda',
      inTemplate: `${functions.length} functions, ${memoryGb * 1024} MB arm64`,
      // The scheduled runs (reconciler, keeper) at ~0.5 s each.
      monthly: lambdaPer(scheduledRuns, scheduledRuns * 0.5),
      per1000: k * lambdaPer(p.lambdaInvocations, p.lambdaSeconds),
      basis: `$0.20 per 1M requests, $0.0000133334 per GB-s (arm64); ${Math.round(scheduledRuns)} scheduled runs a month; ${p.lambdaInvocations} invocations, ${p.lambdaSeconds} s a purchase`,
    },
    {
      resource: 'API Gateway (HTTP API)',
      inTemplate: `${of('AWS::ApiGatewayV2::Api').length} API, ${of('AWS::ApiGatewayV2::Route').length} routes`,
      monthly: 0,
      per1000: k * p.apiRequests * PRICES.httpApiRequest,
      basis: `$1.00 per 1M requests; ${p.apiRequests} a purchase`,
    },
    {
      resource: 'SQS',
      inTemplate: `${of('AWS::SQS::Queue').length} queues (${esm} polled by Lambda)`,
      monthly: esm * ESM_RECEIVES_PER_MONTH * PRICES.sqsRequest,
      per1000: k * p.sqsRequests * PRICES.sqsRequest,
      basis: `$0.40 per 1M requests; Lambda's long polling ~${ESM_RECEIVES_PER_MONTH.toLocaleString('en-US')} receives a month a queue; ${p.sqsRequests} a purchase`,
    },
    {
      resource: 'DynamoDB (on demand)',
      inTemplate: `${of('AWS::DynamoDB::Table').length} table`,
      // The reconciler's query of the unresolved index every run: one read unit.
      monthly: scheduledRuns * PRICES.dynamoReadUnit,
      per1000: k * (p.dynamoWriteUnits * PRICES.dynamoWriteUnit + p.dynamoReadUnits * PRICES.dynamoReadUnit),
      basis: `$0.625 per 1M write units, $0.125 per 1M read units; ${p.dynamoWriteUnits} writes, ${p.dynamoReadUnits} reads a purchase (storage: cents)`,
    },
    {
      resource: 'Secrets Manager',
      inTemplate: `${of('AWS::SecretsManager::Secret').length} secret`,
      monthly: of('AWS::SecretsManager::Secret').length * PRICES.secret,
      per1000: k * p.secretsCalls * PRICES.secretsApiCall,
      basis: `$0.40 per secret a month, $0.05 per 10,000 calls; ${p.secretsCalls} a purchase at most`,
    },
    {
      resource: 'KMS',
      inTemplate: `${of('AWS::KMS::Key').length} customer managed key`,
      monthly: of('AWS::KMS::Key').length * PRICES.kmsKey,
      per1000: k * p.kmsRequests * PRICES.kmsRequest,
      basis: `$1.00 per key a month, $0.03 per 10,000 requests; ${p.kmsRequests} a purchase at most`,
    },
    {
      resource: 'CloudWatch alarms and metrics',
      inTemplate: `${of('AWS::CloudWatch::Alarm').length} alarms, ${of('AWS::Logs::MetricFilter').length} metric filters`,
      monthly:
        of('AWS::CloudWatch::Alarm').length * PRICES.alarm +
        (SCHEDULED_METRICS + alwaysPublished) * PRICES.customMetric,
      per1000: 0,
      basis: `$0.10 per alarm a month, $0.30 per custom metric a month (${SCHEDULED_METRICS + alwaysPublished} published every month; metric filters publish only on a match)`,
    },
    {
      resource: 'CloudWatch Logs',
      inTemplate: `${of('AWS::Logs::LogGroup').length} log groups`,
      monthly: (scheduledRuns * 2 * 1024 * PRICES.logIngestGb) / 1024 ** 3,
      per1000: (k * p.logBytes * PRICES.logIngestGb) / 1024 ** 3,
      basis: `$0.50 per GB ingested (storage $0.03 per GB a month: cents); ${p.logBytes / 1024} KB a purchase, 2 KB a scheduled run`,
    },
    {
      resource: 'Verified Permissions',
      inTemplate: `${of('AWS::VerifiedPermissions::PolicyStore').length} policy store, ${of('AWS::VerifiedPermissions::Policy').length} policies`,
      monthly: 0,
      per1000: k * p.authorizations * PRICES.verifiedPermissionsRequest,
      basis: `$5 per 1M authorization requests; ${p.authorizations} a purchase`,
    },
    {
      resource: 'EventBridge',
      inTemplate: `${of('AWS::Events::EventBus').length} bus, ${of('AWS::Events::Rule').length} rules`,
      monthly: 0,
      per1000: k * p.events * PRICES.eventBridgeEvent,
      basis: `$1.00 per 1M events published to a custom bus (scheduled rules: no charge); ${p.events} a purchase`,
    },
  ];
}

const usd = (value: number) =>
  value === 0 ? '$0' : value < 0.001 ? '<$0.001' : value < 0.1 ? `$${value.toFixed(3)}` : `$${value.toFixed(2)}`;

export const totals = (rows: CostRow[]) => ({
  monthly: rows.reduce((sum, row) => sum + row.monthly, 0),
  per1000: rows.reduce((sum, row) => sum + row.per1000, 0),
});

/** The line the README quotes. */
export const summaryLine = (rows: CostRow[]) => {
  const t = totals(rows);
  return `about ${usd(t.monthly)} a month fixed, plus ${usd(t.per1000)} per 1,000 purchases (${REGION} list prices as of ${PRICES_AS_OF.slice(0, 10)})`;
};

/** The markdown table docs/deploy.md holds between `<!-- cost:start -->` and `<!-- cost:end -->`. */
export function costMarkdown(rows: CostRow[]): string {
  const t = totals(rows);
  const lines = [
    `Prices: AWS list prices, ${REGION}, USD, no free tier, as of ${PRICES_AS_OF}. Check them before relying on the figures.`,
    '',
    '| resource | in the template | monthly fixed | per 1,000 purchases | prices and assumptions |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.resource} | ${r.inTemplate} | ${usd(r.monthly)} | ${usd(r.per1000)} | ${r.basis} |`),
    `| **total** | | **${usd(t.monthly)}** | **${usd(t.per1000)}** | |`,
  ];
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = costReport(synthTemplate());
  process.stdout.write(`${costMarkdown(rows)}\nIn short: ${summaryLine(rows)}.\n`);
}
