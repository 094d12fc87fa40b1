// `POST /events` (local only, not deployed): takes an EventBridge PutEvents entry — `{ Source, DetailType, Detail }`,
// or `{ Entries: [...] }` — and does what the bus, the rule and the queue do in AWS: the entries that match the rule
// become SQS records for the order-events function, invoked in-process. Answers with the batch response and the
// outcome events that would have been published. A record reported as failed is not redelivered here: post again.
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { RouteNotFoundError, ValidationError } from '../functions/shared/errors.js';
import { COMMAND_TYPES, OUTCOME_SOURCE, type OutcomeEvent } from '../functions/shared/events.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../functions/shared/problem.js';
import { describeIssues, ISSUE_PARAMS } from '../functions/shared/validation.js';
import { toContext } from './api-gateway.js';
import { eventBridgeEvent, sqsRecord } from './event-records.js';
import type { LocalEndpoint } from './server.js';

const Entry = z.looseObject({
  Source: z.string().check(z.minLength(1)),
  DetailType: z.string().check(z.minLength(1)),
  /** PutEvents takes a JSON string; an object is accepted here for convenience. */
  Detail: z.union([z.string(), z.record(z.string(), z.unknown())]),
  EventBusName: z.optional(z.string()),
});
const Entries = z.strictObject({ Entries: z.array(Entry).check(z.minLength(1), z.maxLength(10)) });
/** Several entries (`{ Entries }`) or one; chosen by shape so that errors name the field, not "no shape matched". */
const putEventsSchema = (body: unknown) => (body && typeof body === 'object' && 'Entries' in body ? Entries : Entry);

export type OrderEventsHandler = (
  event: SQSEvent,
  context: ReturnType<typeof toContext>,
  published: OutcomeEvent[],
) => Promise<SQSBatchResponse>;

const json = (status: number, body: unknown, problem = false, headers = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'Content-Type': problem ? PROBLEM_CONTENT_TYPE : 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * The rule in the stack: commands by detail-type, never our own outcome events. Names the field that keeps an entry
 * from matching (`Source` first: an outcome source never matches, whatever its detail-type), or nothing.
 */
function unmatchedField(entry: z.infer<typeof Entry>): { field: 'Source' | 'DetailType'; message: string } | undefined {
  if (entry.Source === OUTCOME_SOURCE) {
    return {
      field: 'Source',
      message: `must not be ${OUTCOME_SOURCE}: that source is this service's own outcome events, which the rule never routes back`,
    };
  }
  if (!(COMMAND_TYPES as readonly string[]).includes(entry.DetailType)) {
    return { field: 'DetailType', message: `must be ${COMMAND_TYPES.join(' or ')}: the rule routes only those` };
  }
  return undefined;
}

export function eventsEndpoint(run: OrderEventsHandler): LocalEndpoint {
  return async (method, url, body) => {
    if (url.pathname !== '/events') return undefined;
    try {
      if (method !== 'POST') throw new RouteNotFoundError(method, url.pathname, ['POST']);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new ValidationError([{ path: '/body', message: 'is not valid JSON' }]);
      }
      const result = putEventsSchema(parsed).safeParse(parsed, ISSUE_PARAMS);
      if (!result.success) throw new ValidationError(describeIssues(result.error.issues, '/body'));
      type PutEventsEntry = z.infer<typeof Entry>;
      const data = result.data as { Entries?: PutEventsEntry[] };
      const entries: PutEventsEntry[] = data.Entries ?? [result.data as PutEventsEntry];
      const unmatched = entries.flatMap((entry, i) => {
        const found = unmatchedField(entry);
        return found
          ? [{ path: `${data.Entries ? `/body/Entries/${i}` : '/body'}/${found.field}`, message: found.message }]
          : [];
      });
      if (unmatched.length > 0) throw new ValidationError(unmatched);
      const records = entries.map((entry) =>
        sqsRecord(
          eventBridgeEvent(entry.DetailType, typeof entry.Detail === 'string' ? safeJson(entry.Detail) : entry.Detail, {
            source: entry.Source,
          }),
        ),
      );
      const published: OutcomeEvent[] = [];
      let response: SQSBatchResponse;
      try {
        response = await run({ Records: records }, toContext('order-events', 60_000), published);
      } catch {
        // Every record failed: in AWS the whole batch goes back to the queue.
        response = { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
      }
      return json(200, { ...response, events: records.map((r) => JSON.parse(r.body).id), outcomes: published });
    } catch (error) {
      const { problem, headers } = toProblem(error);
      return json(problem.status, problem, true, headers);
    }
  };
}

/** A Detail string that is not JSON reaches the function as it is, which rejects it. */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
