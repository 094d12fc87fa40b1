// `npm run cost`: the table docs/deploy.md shows is the script's output for the template as synthesized today, the
// README quotes its totals, and the figures move with the template (a resource more costs more).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  costMarkdown,
  costReport,
  PRICES_AS_OF,
  REGION,
  summaryLine,
  synthTemplate,
  totals,
} from '../../scripts/cost.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('npm run cost', () => {
  const template = synthTemplate();
  const rows = costReport(template);

  it('covers every kind of resource the issue names, with its prices, region and date', () => {
    expect(rows.map((r) => r.resource)).toEqual([
      'Lambda',
      'API Gateway (HTTP API)',
      'SQS',
      'DynamoDB (on demand)',
      'Secrets Manager',
      'KMS',
      'CloudWatch alarms and metrics',
      'CloudWatch Logs',
      'Verified Permissions',
      'EventBridge',
    ]);
    const markdown = costMarkdown(rows);
    expect(markdown).toContain(REGION);
    expect(markdown).toContain(PRICES_AS_OF);
    for (const row of rows) expect(row.basis).toMatch(/\$\d/);
    const { monthly, per1000 } = totals(rows);
    // The reader estimated ~$4-5 a month fixed from the template; alarms, the key and the secret are most of it.
    expect(monthly).toBeGreaterThan(3);
    expect(monthly).toBeLessThan(10);
    expect(per1000).toBeGreaterThan(0);
  });

  it('is the table in docs/deploy.md, and the README quotes its totals', () => {
    const deploy = read('docs/deploy.md');
    const table = /<!-- cost:start -->\n([\s\S]*?)<!-- cost:end -->/.exec(deploy)?.[1];
    expect(table, 'run `npm run cost` and paste its table into docs/deploy.md').toBe(costMarkdown(rows));
    const { monthly, per1000 } = totals(rows);
    const line = summaryLine(rows);
    expect(read('README.md')).toContain(line);
    expect(deploy).toContain(`about $${monthly.toFixed(2)} a month fixed, $${per1000.toFixed(3)} per 1,000 purchases`);
  });

  it('follows the template: another alarm costs $0.10 a month more', () => {
    const more = structuredClone(template);
    more.Resources.ExtraAlarm = { Type: 'AWS::CloudWatch::Alarm', Properties: {} };
    expect(totals(costReport(more)).monthly - totals(rows).monthly).toBeCloseTo(0.1, 6);
  });
});
