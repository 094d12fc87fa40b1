// What every service call needs besides its payload, whichever entry point (HTTP, event, direct invoke) made it.

import type * as z from 'zod/mini';
import { UpstreamProtocolError } from '../errors.js';
import { logger } from '../log.js';
import type { CallOptions, PartnerCenterRequest, PartnerCenterResponse } from '../partner-center/client.js';
import type { DryRunResult, ServiceContext, ServiceResult } from '../purchase/model.js';
import { compiled } from '../validation.js';

export type { DryRunResult, ServiceContext, ServiceResult } from '../purchase/model.js';

export const dryRun = (ctx: ServiceContext, steps: [string, PartnerCenterRequest][]): ServiceResult => ({
  status: 200,
  body: {
    dryRun: true,
    requests: steps.map(([step, request]) =>
      ctx.partnerCenter.describe(request, {
        correlationId: ctx.correlationId,
        ...(ctx.requestIdFor ? { requestId: ctx.requestIdFor(step) } : {}),
      }),
    ),
  } satisfies DryRunResult,
});

/**
 * A stable MS-RequestId for a step that changes something, so that its retries are recognised; a read gets a new one
 * each time (the header's documented rule), so that no cached answer can hide a purchase placed since.
 */
export const callOptions = (ctx: ServiceContext, step: string, method = 'POST'): CallOptions => ({
  correlationId: ctx.correlationId,
  deadline: ctx.deadline,
  ...(ctx.requestIdFor && method !== 'GET' ? { requestId: ctx.requestIdFor(step) } : {}),
});

/** Sends one step and reads its answer as `schema`; a 2xx that is not that resource is a protocol error. */
export async function sendFor<T>(
  ctx: ServiceContext,
  step: string,
  request: PartnerCenterRequest,
  schema: z.ZodMiniType<T>,
  what: string,
  purchase?: CallOptions['purchase'],
): Promise<T> {
  const response = await ctx.partnerCenter.send(request, {
    ...callOptions(ctx, step, request.method),
    ...(purchase ? { purchase } : {}),
  });
  return answerAs(response, step, schema, `Partner Center answered ${response.status} without ${what}.`);
}

/**
 * One upstream answer, logged (one line per call, so every Partner Center request id is in our logs next to the
 * correlation id) and read as `schema`; a 2xx that is not that resource is a protocol error with `unreadable` as
 * its detail. Purchases (sendFor) and catalog reads (catalog/reads.ts) share it.
 */
export function answerAs<T>(
  response: PartnerCenterResponse,
  step: string,
  schema: z.ZodMiniType<T>,
  unreadable: string,
  message = 'partner center answered',
): T {
  logger.info(message, {
    step,
    status: response.status,
    attempts: response.attempts,
    upstreamRequestId: response.ids.requestId,
  });
  const parsed = compiled(schema).safeParse(response.body);
  if (!parsed.success) throw new UpstreamProtocolError(response.ids, response.status, unreadable);
  return parsed.data;
}

export { segment } from '../partner-center/carts.js';
