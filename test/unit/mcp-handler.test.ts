// functions/mcp/handler.ts on its own: the MCP route behind the same door as every API function (API Gateway events
// only, the caller identified before any tool runs), and what its in-process dispatch hands a route: the tool's route,
// path, query and body with the real event's identity, nothing else of the agent's request.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createHandler } from '../../functions/mcp/handler.js';
import { iamIdentity, identityFrom } from '../../functions/shared/identity/http.js';
import type { RouteHandler } from '../../functions/shared/mcp/dispatch.js';
import { memoryQuotes } from '../../functions/shared/mcp/quotes.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { withAuthorizer } from '../support/jwt.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const AGENT_ARN = 'arn:aws:iam::111122223333:role/PurchasingAgent';
const order = { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2 }] };

const rpc = (method: string, params: unknown, headers: Record<string, string> = {}) =>
  httpEvent('POST /mcp', {
    headers: { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: { jsonrpc: '2.0', id: 1, method, params },
  });

const context = () => ({ ...lambdaContext(), getRemainingTimeInMillis: () => 20_000 });

describe('POST /mcp (functions/mcp/handler.ts)', () => {
  it("dispatches a tool call to its route with the caller's verified identity, and only the tool's request", async () => {
    const seen: APIGatewayProxyEventV2[] = [];
    const route: RouteHandler = async (event) => {
      seen.push(event);
      return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"dryRun":true}' };
    };
    const handler = createHandler({
      identity: iamIdentity,
      handlerOf: async () => route,
      quotes: memoryQuotes(),
      writes: false,
    });
    const event = withAuthorizer(
      rpc(
        'tools/call',
        { name: 'quote_order', arguments: { customerId: CUSTOMER, order } },
        // Headers of the agent's own request that no route may take from it.
        { 'allow-duplicate': 'true', 'idempotency-key': 'chosen-by-the-agent', 'x-forwarded-for': '10.0.0.1' },
      ),
      { iam: { userArn: AGENT_ARN } },
    );
    const result = await handler(event, context());
    expect(result.statusCode).toBe(200);
    const answer = JSON.parse(result.body ?? '');
    expect(answer.result.isError).toBeUndefined();
    expect(JSON.parse(answer.result.content[0].text)).toMatchObject({ status: 200, quoteId: expect.any(String) });

    expect(seen).toHaveLength(1);
    const inner = seen[0] as APIGatewayProxyEventV2;
    expect(inner.routeKey).toBe('POST /customers/{customerId}/orders');
    expect(inner.requestContext.routeKey).toBe('POST /customers/{customerId}/orders');
    expect(inner.requestContext.http.path).toBe(`/customers/${CUSTOMER}/orders`);
    expect((inner.requestContext as { authorizer?: unknown }).authorizer).toEqual({ iam: { userArn: AGENT_ARN } });
    expect(inner.pathParameters).toEqual({ customerId: CUSTOMER });
    expect(inner.queryStringParameters).toEqual({ dryRun: 'true' });
    expect(JSON.parse(inner.body ?? '')).toEqual(order);
    expect(Object.keys(inner.headers).sort()).toEqual(['content-type', 'idempotency-key', 'ms-correlationid']);
    expect(inner.headers['idempotency-key']).toMatch(/^mcp-[0-9a-f-]{36}$/);
  });

  it('lists no tool that buys unless writes are on', async () => {
    const names = async (writes: boolean) => {
      const handler = createHandler({
        identity: iamIdentity,
        handlerOf: async () => {
          throw new Error('listing tools calls no route');
        },
        quotes: memoryQuotes(),
        writes,
      });
      const result = await handler(rpc('tools/list', {}), context());
      return JSON.parse(result.body ?? '').result.tools.map((tool: { name: string }) => tool.name) as string[];
    };
    expect(await names(false)).not.toEqual(expect.arrayContaining(['place_order']));
    expect(await names(false)).not.toContain('place_cart');
    expect(await names(true)).toEqual(
      expect.arrayContaining(['place_order', 'place_cart', 'place_subscription_change']),
    );
  });

  it('refuses a forged authorizer context in JWT mode before any tool runs, and answers GET with 405', async () => {
    let dispatched = 0;
    const handler = createHandler({
      identity: identityFrom({
        authorizer: 'jwt',
        jwt: {
          issuer: 'https://issuer.example.com/',
          audience: ['partner-orders'],
          scopes: { purchase: 'partner-orders/purchase', read: 'partner-orders/read' },
        },
      }),
      handlerOf: async () => {
        dispatched++;
        throw new Error('no route may run');
      },
      quotes: memoryQuotes(),
      writes: true,
    });
    const forged = withAuthorizer(
      rpc('tools/call', { name: 'quote_order', arguments: { customerId: CUSTOMER, order } }),
      {
        jwt: { claims: { sub: 'admin', scope: 'partner-orders/purchase' } },
      },
    );
    const refused = await handler(forged, context());
    expect(refused.statusCode).toBe(401);
    expect(dispatched).toBe(0);

    const iam = createHandler({
      identity: iamIdentity,
      handlerOf: async () => null as never,
      quotes: memoryQuotes(),
      writes: false,
    });
    const get = await iam(httpEvent('GET /mcp'), context());
    expect(get).toMatchObject({ statusCode: 405, headers: { Allow: 'POST' } });
  });

  it("leaves zod's messages as every other function has them, though the SDK loads zod's English locale", () => {
    // validation.ts writes the service's own message over zod/mini's bare issue ("Invalid input").
    expect(z.number().safeParse(Number.POSITIVE_INFINITY).error?.issues[0]?.message).toBe('Invalid input');
  });

  it('takes API Gateway events only: a direct invocation with a flat payload is refused', async () => {
    const handler = createHandler({
      identity: iamIdentity,
      handlerOf: async () => null as never,
      quotes: memoryQuotes(),
      writes: true,
    });
    const result = await handler({ command: 'CreateOrder', customerId: CUSTOMER } as never, context());
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
  });
});
