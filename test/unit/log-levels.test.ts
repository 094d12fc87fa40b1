// LOG_LEVEL: every documented level and alias, an unknown one said out loud, and what DEBUG adds (validation).
import { describe, expect, it } from 'vitest';
import { Logger, logger } from '../../functions/shared/log.js';
import { CustomerPath, IdempotencyKeyHeaders } from '../../functions/shared/schemas/ids.js';
import { CreateOrderRequest } from '../../functions/shared/schemas/index.js';
import { parseParts } from '../../functions/shared/validation.js';
import { captureLogs } from '../support/logs.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const OFFER = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';

function levelsWritten(level: string): string[] {
  const lines: { level: string; message: string }[] = [];
  const log = new Logger('svc', level, (line) => lines.push(JSON.parse(line)));
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  return lines.map((line) => (line.message.length === 1 ? line.level : `${line.level} ${line.message}`));
}

describe('log levels', () => {
  it.each([
    ['DEBUG', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['debug', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['TRACE', ['DEBUG', 'INFO', 'WARN', 'ERROR']],
    ['INFO', ['INFO', 'WARN', 'ERROR']],
    ['WARN', ['WARN', 'ERROR']],
    ['ERROR', ['ERROR']],
    ['FATAL', ['ERROR']],
    ['CRITICAL', ['ERROR']],
    ['SILENT', []],
  ])('%s writes %j', (level, expected) => {
    expect(levelsWritten(level)).toEqual(expected);
  });

  it('says once that an unknown level is not one, and uses INFO', () => {
    expect(levelsWritten('VERBOSE')).toEqual([
      'WARN log level "VERBOSE" is not one of DEBUG, INFO, WARN, ERROR, SILENT: using INFO',
      'INFO',
      'WARN',
      'ERROR',
    ]);
  });

  it('isEnabled tells whether a level is written', () => {
    const log = new Logger('svc', 'INFO', () => undefined);
    expect(log.isEnabled('DEBUG')).toBe(false);
    expect(log.isEnabled('INFO')).toBe(true);
  });
});

describe('what DEBUG adds (vitest runs with LOG_LEVEL=DEBUG)', () => {
  const logs = captureLogs();
  const entries = () => logs.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  const request = (body: unknown) =>
    parseParts({
      path: [CustomerPath, { customerId: CUSTOMER }],
      headers: [IdempotencyKeyHeaders, { 'idempotency-key': 'secret-looking-key-value' }],
      body: [CreateOrderRequest, body],
    });

  it('a validated request: the fields of each part and the number of line items, no values', () => {
    expect(logger.isEnabled('DEBUG')).toBe(true);
    logs.clear();
    request({ lineItems: [{ offerId: OFFER, quantity: 5, friendlyName: 'Seats for HR' }], billingCycle: 'monthly' });
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'request validated',
        fields: { path: ['customerId'], headers: ['idempotency-key'], body: ['lineItems', 'billingCycle'] },
        lineItems: 1,
      }),
    ]);
    for (const value of ['secret-looking-key-value', 'Seats for HR', OFFER]) expect(logs.text()).not.toContain(value);
  });

  it('a refused request: every field error', () => {
    logs.clear();
    expect(() => request({ lineItems: [{ OfferId: OFFER, quantity: 0 }] })).toThrow();
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'request refused by validation',
        errorCount: 3,
        errors: expect.arrayContaining([
          { path: '/body/lineItems/0/offerId', message: 'is required' },
          { path: '/body/lineItems/0/quantity', message: 'must be at least 1' },
        ]),
      }),
    ]);
    expect(logs.text()).not.toContain(OFFER);
  });
});
