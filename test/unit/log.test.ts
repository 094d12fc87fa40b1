import { describe, expect, it } from 'vitest';
import { injectLambdaContext, Logger } from '../../functions/shared/log.js';
import { lambdaContext } from '../support/events.js';

function capture(level?: string) {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger('svc', level, (line) => lines.push(JSON.parse(line)));
  return { log, lines };
}

describe('Logger', () => {
  it('writes one JSON line per entry with the Powertools keys and the appended keys', () => {
    const { log, lines } = capture('INFO');
    log.appendKeys({ correlationId: 'c-1' });
    log.info('request completed', { status: 201 });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'request completed',
        service: 'svc',
        correlationId: 'c-1',
        status: 201,
        timestamp: expect.any(String),
      }),
    ]);
    log.resetKeys();
    log.warn('x');
    expect(lines[1]).not.toHaveProperty('correlationId');
  });

  it('drops entries below the level', () => {
    const { log, lines } = capture('WARN');
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(lines.map((l) => l.message)).toEqual(['c', 'd']);
    const silent = capture('SILENT');
    silent.log.error('e');
    expect(silent.lines).toEqual([]);
  });

  it('writes errors as name, message and stack', () => {
    const { log, lines } = capture();
    log.error('failed', { error: new TypeError('boom') });
    expect(lines[0]?.error).toMatchObject({
      name: 'TypeError',
      message: 'boom',
      stack: expect.stringContaining('TypeError: boom'),
    });
  });

  it('adds the Lambda context per invocation and clears it after', async () => {
    const { log, lines } = capture();
    const middleware = injectLambdaContext(log);
    const request = { event: {}, context: lambdaContext(), response: undefined, error: undefined, internal: {} };
    await middleware.before?.(request as never);
    log.info('inside');
    await middleware.after?.(request as never);
    log.info('outside');
    expect(lines[0]).toMatchObject({
      function_request_id: 'aws-request-id',
      function_name: 'test',
      cold_start: expect.any(Boolean),
    });
    expect(lines[1]).not.toHaveProperty('function_request_id');
  });

  it('keeps the keys appended inside withKeys to that work alone, while several run at once', async () => {
    const { log, lines } = capture();
    log.appendKeys({ function_request_id: 'r-1' });
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    const work = (customerId: string) =>
      log.withKeys({ messageId: `m-${customerId}` }, async () => {
        log.appendKeys({ customerId });
        await tick();
        log.info('sent');
        await tick();
        log.withKeys({ step: 'checkout' }, () => log.info('nested'));
        log.info('done');
      });
    await Promise.all(['a', 'b', 'c'].map(work));
    log.info('outside');

    for (const customerId of ['a', 'b', 'c']) {
      const mine = lines.filter((l) => l.customerId === customerId);
      expect(mine.map((l) => l.message)).toEqual(['sent', 'nested', 'done']);
      for (const line of mine) expect(line).toMatchObject({ messageId: `m-${customerId}`, function_request_id: 'r-1' });
      expect(mine[1]).toMatchObject({ step: 'checkout' });
      expect(mine[2]).not.toHaveProperty('step');
    }
    expect(lines.at(-1)).toEqual(expect.objectContaining({ message: 'outside', function_request_id: 'r-1' }));
    expect(lines.at(-1)).not.toHaveProperty('customerId');
    expect(lines.at(-1)).not.toHaveProperty('messageId');
  });

  it('resetKeys inside withKeys clears only the keys of that work', async () => {
    const { log, lines } = capture();
    log.appendKeys({ function_request_id: 'r-2' });
    await log.withKeys({ messageId: 'm' }, async () => {
      log.resetKeys();
      log.info('inside');
    });
    expect(lines[0]).toMatchObject({ function_request_id: 'r-2' });
    expect(lines[0]).not.toHaveProperty('messageId');
  });
});
