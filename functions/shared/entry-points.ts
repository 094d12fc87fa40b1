// Which trigger a payload claims to come from, judged by its shape only. A Lambda function cannot tell who invoked it
// (pitfall #19): whoever holds lambda:InvokeFunction can send any shape. So each function has one door and refuses
// the others' shapes, instead of choosing its path (and so the identity it trusts) from the payload:
//   API functions (http.ts)            API Gateway HTTP API (payload v2) events only
//   invoke-purchase (invoke.ts)        flat command payloads only: never an API Gateway event or an SQS batch
//   order-events (events.ts)           SQS batches only, each record then proven to come from the command queue
// A shape check is not proof: what makes the API functions' identity hold is the JWT they verify (identity/jwt.ts)
// or, with IAM, that nobody but API Gateway may invoke them (the stack's InvokeGuard output, docs/authorization.md).
import { WrongEntryPointError } from './errors.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** API Gateway's HTTP API payload v2, as API Gateway builds it: version, route key and the request context. */
export function isApiGatewayEvent(event: unknown): boolean {
  if (!isObject(event)) return false;
  const { version, routeKey, requestContext } = event;
  return version === '2.0' && typeof routeKey === 'string' && isObject(requestContext) && isObject(requestContext.http);
}

/** Anything that looks like any trigger's event rather than a command: an API Gateway (v1 or v2) or SQS shape. */
function triggerShape(event: unknown): 'an API Gateway event' | 'an SQS batch' | undefined {
  if (!isObject(event)) return undefined;
  if ('requestContext' in event || 'routeKey' in event || 'httpMethod' in event) return 'an API Gateway event';
  if ('Records' in event) return 'an SQS batch';
  return undefined;
}

/** An SQS batch as the event source mapping delivers it: `Records`, each an `aws:sqs` record. */
export function isSqsBatch(event: unknown): boolean {
  if (!isObject(event) || !Array.isArray(event.Records) || event.Records.length === 0) return false;
  return event.Records.every(
    (record) =>
      isObject(record) &&
      record.eventSource === 'aws:sqs' &&
      typeof record.receiptHandle === 'string' &&
      typeof record.eventSourceARN === 'string' &&
      typeof record.body === 'string' &&
      typeof record.messageId === 'string',
  );
}

export function requireApiGatewayEvent(event: unknown, functionName: string): void {
  if (isApiGatewayEvent(event)) return;
  throw new WrongEntryPointError(
    `${functionName} serves API Gateway only. Invoke the invoke-purchase function (InvokePurchaseFunctionName) with a flat command, or send the request through the API.`,
  );
}

export function refuseTriggerShapes(event: unknown): void {
  const shape = triggerShape(event);
  if (shape === undefined) return;
  throw new WrongEntryPointError(
    `This function takes flat commands from direct invocation only, not ${shape}: an identity in a payload is not proof of one (docs/authorization.md, "Entry points").`,
  );
}

export function requireSqsBatch(event: unknown): void {
  if (isSqsBatch(event)) return;
  throw new WrongEntryPointError(
    'order-events takes SQS batches from the command queue only: send commands to the event bus, or invoke the invoke-purchase function.',
  );
}
