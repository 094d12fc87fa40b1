// Turns a node:http request into the API Gateway HTTP API (payload v2) event the Lambda handlers receive, and a
// handler's result back into an HTTP response: the local server's only job besides routing.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** API Gateway's own payload limit: larger requests never reach the function. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export class PayloadTooLarge extends Error {}

export async function readBody(request: IncomingMessage, maxBytes = GATEWAY_MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new PayloadTooLarge(`body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Header and query values repeated in a request are joined with commas, as API Gateway does for payload v2. */
function joined(pairs: Iterable<[string, string]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of pairs) result[key] = key in result ? `${result[key]},${value}` : value;
  return result;
}

export function toEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  route: { routeKey: string; pathParameters: Record<string, string> },
): APIGatewayProxyEventV2 {
  const headerPairs: [string, string][] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    headerPairs.push([String(request.rawHeaders[i]).toLowerCase(), String(request.rawHeaders[i + 1])]);
  }
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  const query = joined(url.searchParams);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: joined(headerPairs),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(route.pathParameters).length > 0 ? { pathParameters: route.pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? text : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** A Lambda context with the deployed function's timeout, so deadlines behave as they will in AWS. */
export function toContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const body =
    result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  response.writeHead(result.statusCode ?? 200, {
    ...Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    'Content-Length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}
