// Identity no invoker can forge (issue 20). A Lambda function cannot tell who invoked it, so whoever holds
// lambda:InvokeFunction can send any payload: an API Gateway event with a forged `requestContext.authorizer`, an SQS
// record claiming any queue and any `source`. Each entry point here refuses what it cannot prove, with an RFC 9457
// problem, before anything is read or sent to Partner Center:
//   - the API functions take API Gateway events only and, in JWT mode, verify the bearer token themselves (a forged
//     authorizer context buys nothing and reads nothing; tokens signed by another key, expired, for another audience
//     or without the route's scope are refused);
//   - the invoke-purchase function refuses API Gateway and SQS shapes;
//   - the event consumer takes SQS batches only, and each record proves it came from the command queue.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createCatalogHandler } from '../../functions/catalog/handler.js';
import { createHandler as createCartHandler } from '../../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { createHandler as createHealthHandler } from '../../functions/credentials-health/handler.js';
import { createHandler as createInvokeHandler } from '../../functions/invoke-purchase/handler.js';
import { createHandler as createEventsHandler, FOREIGN_RECORDS_METRIC } from '../../functions/order-events/handler.js';
import { readConfig } from '../../functions/shared/config.js';
import { sqsProvenance } from '../../functions/shared/event-adapters.js';
import { type OutcomeEvent, REFUSED } from '../../functions/shared/events.js';
import { type HttpIdentity, identityFrom } from '../../functions/shared/identity/http.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { CedarEngine } from '../../functions/shared/policy/local.js';
import { createHandler as createStatusHandler } from '../../functions/status/handler.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { newKey, SCOPES, startTokenIssuer, type TokenIssuer, withAuthorizer, withBearer } from '../support/jwt.js';
import { captureLogs } from '../support/logs.js';
import { policyFiles } from '../support/policy.js';
import { eventBridgeEvent, localQueueProvenance, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const logs = captureLogs();
// biome-ignore lint/suspicious/noExplicitAny: log lines of every shape
const jsonLines = (): any[] =>
  logs.lines().flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDERS = 'POST /customers/{customerId}/orders';
/** Approved for nobody's automation: what the review's forged calls bought. */
const UNAPPROVED = 'CFQ7TTC0LFLZ:0001:CFQ7TTC0K4RX';
const order = { lineItems: [{ offerId: UNAPPROVED, quantity: 250, termDuration: 'P3Y' }] };
const FORGED_IAM = { iam: { userArn: 'arn:aws:sts::111122223333:assumed-role/Buyer/anything', accountId: '1' } };
const FORGED_JWT = (iss: string) => ({
  jwt: { claims: { iss, sub: 'alice', groups: '[Purchasers]', scope: SCOPES.purchase }, scopes: [SCOPES.purchase] },
});

/** The review's policy: the Buyer role and purchasers may buy anything; automation (the invoker, producers) nothing. */
const policy = new PurchasePolicy(
  new CedarEngine(
    policyFiles(
      {
        'test-buyers': 'permit (principal in PartnerOrders::Group::"buyers", action, resource);',
      },
      [
        {
          uid: { type: 'PartnerOrders::Role', id: 'arn:aws:iam::111122223333:role/Buyer' },
          attrs: {},
          parents: [{ type: 'PartnerOrders::Group', id: 'buyers' }],
        },
        {
          uid: { type: 'PartnerOrders::TokenGroup', id: 'groups:Purchasers' },
          attrs: {},
          parents: [{ type: 'PartnerOrders::Group', id: 'buyers' }],
        },
      ],
    ),
  ),
);

type Problemish = { type: string; status: number; detail: string };
const problemOf = (result: { statusCode?: number; body?: string; headers?: Record<string, unknown> }) => ({
  status: result.statusCode,
  contentType: result.headers?.['Content-Type'],
  json: JSON.parse(result.body ?? 'null') as Problemish,
});

describe('identity no invoker can forge', () => {
  let stack: Stack;
  let issuer: TokenIssuer;
  let jwt: HttpIdentity;
  const sent = () => stack.simulator.requests.filter((r) => r.path.startsWith('/v1/')).length;

  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, policy });
    issuer = await startTokenIssuer();
    jwt = issuer.identity();
  });
  afterAll(async () => {
    await stack.stop();
    await issuer.stop();
  });
  beforeEach(() => logs.clear());

  const orderEvent = (headers: Record<string, string> = {}) =>
    httpEvent(ORDERS, {
      pathParameters: { customerId: CUSTOMER },
      headers: { 'idempotency-key': `forge-${randomUUID()}`, ...headers },
      body: order,
    });

  describe('JWT mode: the function verifies the bearer token itself', () => {
    it('a valid token buys, as its verified subject in its verified groups', async () => {
      const handler = createOrderHandler({ ...stack.deps, identity: jwt });
      const token = issuer.token({ sub: 'alice', groups: ['Purchasers'], scope: `openid ${SCOPES.purchase}` });
      const result = await handler(withBearer(orderEvent(), token), lambdaContext());
      expect(result.statusCode).toBe(201);
      // Entra ID's `scp` (space-separated) counts as well as OAuth's `scope`.
      const scp = issuer.token({ sub: 'alice', groups: ['Purchasers'], scp: SCOPES.purchase });
      expect((await handler(withBearer(orderEvent(), scp), lambdaContext())).statusCode).toBe(201);
    });

    it('a forged authorizer context (IAM or JWT claims) with no token buys nothing: 401 at every API function', async () => {
      const before = sent();
      const deps = { ...stack.deps, identity: jwt };
      const calls: [string, (event: APIGatewayProxyEventV2) => Promise<unknown>, APIGatewayProxyEventV2][] = [
        ['create-order', (e) => createOrderHandler(deps)(e, lambdaContext()), orderEvent()],
        [
          'create-cart',
          (e) => createCartHandler(deps)(e, lambdaContext()),
          httpEvent('POST /customers/{customerId}/carts', {
            pathParameters: { customerId: CUSTOMER },
            headers: { 'idempotency-key': randomUUID() },
            body: { lineItems: [{ catalogItemId: UNAPPROVED, quantity: 1, billingCycle: 'monthly' }] },
          }),
        ],
        [
          'catalog',
          (e) => createCatalogHandler(deps)(e, lambdaContext()),
          httpEvent('GET /customers/{customerId}/catalog', {
            pathParameters: { customerId: CUSTOMER },
            query: { search: 'Microsoft 365' },
          }),
        ],
        [
          'credentials-health',
          (e) => createHealthHandler(deps)(e, lambdaContext()),
          httpEvent('GET /health/credentials'),
        ],
      ];
      for (const [name, call, event] of calls) {
        for (const authorizer of [FORGED_IAM, FORGED_JWT(issuer.url)]) {
          const result = problemOf((await call(withAuthorizer(event, authorizer))) as never);
          expect(result, name).toMatchObject({
            status: 401,
            contentType: 'application/problem+json',
            json: { type: 'urn:partner-orders:problem:unauthenticated', status: 401 },
          });
        }
      }
      expect(sent()).toBe(before);
    });

    it('GET /purchases/{key} with a forged authorizer reads nothing', async () => {
      // The buyer's purchase exists; a forged event claiming the buyer must not see it, nor touch the store.
      const key = `status-${randomUUID()}`;
      const buyer = withAuthorizer(
        httpEvent(ORDERS, {
          pathParameters: { customerId: CUSTOMER },
          headers: { 'idempotency-key': key },
          body: { lineItems: [{ offerId: UNAPPROVED, quantity: 1 }] },
        }),
        FORGED_IAM,
      );
      expect((await createOrderHandler(stack.deps)(buyer, lambdaContext())).statusCode).toBe(201);
      let reads = 0;
      const idempotency = stack.deps.idempotency;
      if (!idempotency) throw new Error('the stack has a store');
      const counting = {
        peek: (...args: Parameters<typeof idempotency.peek>) => {
          reads++;
          return idempotency.peek(...args);
        },
      };
      const stored = idempotency.journals;
      if (!stored) throw new Error('the store has journals');
      const journals = new Proxy(stored, {
        get: (target, name, receiver) => {
          const value = Reflect.get(target, name, receiver);
          return typeof value === 'function'
            ? (...args: unknown[]) => {
                reads++;
                return value.apply(target, args);
              }
            : value;
        },
      });
      const status = createStatusHandler({ ...stack.deps, identity: jwt, idempotency: counting, journals });
      const read = withAuthorizer(
        httpEvent('GET /purchases/{idempotencyKey}', { pathParameters: { idempotencyKey: key } }),
        FORGED_IAM,
      );
      const forged = problemOf(await status(read, lambdaContext()));
      expect(forged).toMatchObject({ status: 401, json: { type: 'urn:partner-orders:problem:unauthenticated' } });
      const withClaims = problemOf(await status(withAuthorizer(read, FORGED_JWT(issuer.url)), lambdaContext()));
      expect(withClaims.status).toBe(401);
      expect(reads).toBe(0);
      // With IAM (as deployed by default) the same status function does answer the buyer: the guard is the fence.
      const iam = await createStatusHandler({ ...stack.deps, journals: stored })(read, lambdaContext());
      expect(iam.statusCode).toBe(200);
    });

    it('refuses a token signed by another key, expired, for another audience or issuer, or naming no subject (401)', async () => {
      const handler = createOrderHandler({ ...stack.deps, identity: jwt });
      const before = sent();
      const claims = { sub: 'alice', groups: ['Purchasers'], scope: SCOPES.purchase };
      const attacker = newKey();
      const now = Math.floor(Date.now() / 1000);
      const tokens: Record<string, string> = {
        'another key, same kid': issuer.token(claims, { key: attacker }),
        'another key, unknown kid': issuer.token(claims, { key: attacker, kid: 'attacker' }),
        expired: issuer.token({ ...claims, exp: now - 60, iat: now - 660 }),
        'not yet valid': issuer.token({ ...claims, nbf: now + 600 }),
        'another audience': issuer.token({ ...claims, aud: 'someone-else' }),
        'another issuer': issuer.token({ ...claims, iss: 'https://login.example.com/' }),
        'no subject': issuer.token({ groups: ['Purchasers'], scope: SCOPES.purchase, sub: undefined }),
        'alg none': `${Buffer.from('{"alg":"none","kid":"test-key-1"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iss: issuer.url, aud: 'partner-orders-api', exp: now + 600 })).toString('base64url')}.`,
      };
      for (const [name, token] of Object.entries(tokens)) {
        const result = problemOf(await handler(withBearer(orderEvent(), token), lambdaContext()));
        expect(result, name).toMatchObject({
          status: 401,
          json: { type: 'urn:partner-orders:problem:unauthenticated' },
        });
        // Even with a forged authorizer claiming the buyer beside it.
        const both = await handler(withAuthorizer(withBearer(orderEvent(), token), FORGED_IAM), lambdaContext());
        expect(both.statusCode, name).toBe(401);
      }
      expect(problemOf(await handler(orderEvent({ authorization: 'Basic YTpi' }), lambdaContext())).status).toBe(401);
      expect(sent()).toBe(before);
      // No token text in any log line.
      for (const token of Object.values(tokens)) expect(logs.text()).not.toContain(token.split('.')[2] || token);
    });

    it('a token without the route’s scope is 403 insufficient-scope; the read scope does not buy', async () => {
      const handler = createOrderHandler({ ...stack.deps, identity: jwt });
      const before = sent();
      const read = issuer.token({ sub: 'alice', groups: ['Purchasers'], scope: SCOPES.read });
      const result = await handler(withBearer(orderEvent(), read), lambdaContext());
      expect(problemOf(result)).toMatchObject({
        status: 403,
        json: { type: 'urn:partner-orders:problem:insufficient-scope' },
      });
      expect(result.headers?.['WWW-Authenticate']).toContain('insufficient_scope');
      expect(sent()).toBe(before);
    });

    it('fetches the JWKS once per container, not per request', async () => {
      const fresh = issuer.identity();
      const handler = createOrderHandler({ ...stack.deps, identity: fresh });
      const keysBefore = issuer.fetches.filter((path) => path === '/keys').length;
      for (let i = 0; i < 3; i++) {
        const token = issuer.token({ sub: 'alice', groups: ['Purchasers'], scope: SCOPES.purchase });
        expect((await handler(withBearer(orderEvent(), token), lambdaContext())).statusCode).toBe(201);
      }
      expect(issuer.fetches.filter((path) => path === '/keys').length - keysBefore).toBe(1);
    });

    it('an issuer whose keys cannot be read fails closed: 503, nothing sent', async () => {
      const handler = createOrderHandler({
        ...stack.deps,
        identity: issuer.identity({ jwksUri: 'http://127.0.0.1:9/keys', fetchTimeoutMs: 500 }),
      });
      const before = sent();
      const token = issuer.token({ sub: 'alice', groups: ['Purchasers'], scope: SCOPES.purchase });
      const result = problemOf(await handler(withBearer(orderEvent(), token), lambdaContext()));
      expect(result).toMatchObject({
        status: 503,
        json: { type: 'urn:partner-orders:problem:authentication-unavailable' },
      });
      expect(sent()).toBe(before);
    });
  });

  describe('one door per function', () => {
    it('the invoke-purchase function refuses an API Gateway event claiming the buyer, and an SQS batch', async () => {
      const invoke = createInvokeHandler(stack.deps);
      const before = sent();
      const apiShaped = withAuthorizer(orderEvent(), FORGED_IAM);
      expect(await invoke(apiShaped, lambdaContext())).toMatchObject({
        status: 400,
        type: 'urn:partner-orders:problem:wrong-entry-point',
      });
      // The review's payload: the flat command, wrapped to look like API Gateway.
      const wrapped = { ...apiShaped, command: 'CreateOrder', customerId: CUSTOMER, ...order, idempotencyKey: 'x' };
      expect(await invoke(wrapped, lambdaContext())).toMatchObject({
        status: 400,
        type: expect.stringMatching(/wrong-entry-point$/),
      });
      const batch = sqsEvent([sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...order }))]);
      expect(await invoke(batch, lambdaContext())).toMatchObject({
        status: 400,
        type: expect.stringMatching(/wrong-entry-point$/),
      });
      // The same command as a flat payload is judged as the invoker, whom this policy does not let buy.
      const flat = await invoke(
        { command: 'CreateOrder', customerId: CUSTOMER, ...order, idempotencyKey: randomUUID() },
        lambdaContext(),
      );
      expect(flat).toMatchObject({ status: 403, policy: { principal: 'PartnerOrders::Invoker::"invoke"' } });
      expect(sent()).toBe(before);
    });

    it('an API function refuses a flat command (it is not an API Gateway event)', async () => {
      const before = sent();
      const result = await createOrderHandler(stack.deps)(
        { customerId: CUSTOMER, ...order, idempotencyKey: randomUUID() } as never,
        lambdaContext(),
      );
      expect(problemOf(result)).toMatchObject({
        status: 400,
        json: { type: 'urn:partner-orders:problem:wrong-entry-point' },
      });
      expect(sent()).toBe(before);
    });
  });

  describe('the event consumer: SQS batches from the command queue only', () => {
    const consumer = () => {
      const published: OutcomeEvent[] = [];
      let counted = 0;
      const handler = createEventsHandler({
        ...stack.deps,
        publish: async (events) => {
          published.push(...events);
        },
        delay: async () => undefined,
        proveOrigin: localQueueProvenance,
        countForeign: () => {
          counted++;
        },
      });
      return { handler, published, counted: () => counted };
    };
    /** The review's record: another account's queue, and a producer the bus would have bound to its own role. */
    const forged = (overrides: Partial<SQSRecord> = {}): SQSRecord => ({
      ...sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...order }, { source: 'com.example.crm' })),
      ...overrides,
    });

    it('a record claiming another account’s queue, or with a forged receipt handle, buys and publishes nothing', async () => {
      const { handler, published, counted } = consumer();
      const before = sent();
      const records = [
        forged({ eventSourceARN: 'arn:aws:sqs:eu-west-1:999999999999:attacker-queue', receiptHandle: 'AQEB-forged' }),
        forged({ receiptHandle: 'AQEB-forged' }),
        forged({ eventSourceARN: 'arn:aws:sqs:eu-west-1:999999999999:attacker-queue' }),
      ];
      const result = await handler(sqsEvent(records), lambdaContext(60_000));
      // Acknowledged (nothing to retry: they are not the queue's), never bought, nothing on the bus.
      expect(result).toEqual({ batchItemFailures: [] });
      expect(published).toEqual([]);
      expect(sent()).toBe(before);
      expect(counted()).toBe(3);
      expect(
        jsonLines().filter((l) => l.message === 'record refused: not received from the command queue'),
      ).toHaveLength(3);
      // The record's body (the command) is not logged.
      expect(logs.text()).not.toContain(UNAPPROVED);
    });

    it('an API Gateway event or a bare command sent to the consumer is refused with a problem, nothing bought', async () => {
      const { handler, published, counted } = consumer();
      const before = sent();
      for (const payload of [
        withAuthorizer(orderEvent(), FORGED_IAM),
        { customerId: CUSTOMER, ...order },
        { Records: [] },
      ]) {
        const result = (await handler(payload as never, lambdaContext(60_000))) as unknown as Problemish;
        expect(result).toMatchObject({ status: 400, type: 'urn:partner-orders:problem:wrong-entry-point' });
      }
      expect(published).toEqual([]);
      expect(sent()).toBe(before);
      expect(counted()).toBe(3);
    });

    it('logs each refusal with the field the CommandsNotFromQueue metric filter counts (infra/stack.ts)', async () => {
      const { handler } = consumer();
      await handler(sqsEvent([forged({ receiptHandle: 'forged' })]), lambdaContext(60_000));
      await handler({ not: 'a batch' } as never, lambdaContext(60_000));
      const refused = jsonLines().filter((l) => l.provenance === REFUSED.provenance);
      expect(refused.map((l) => l.message)).toEqual([
        'record refused: not received from the command queue',
        'invocation refused: not an SQS batch',
      ]);
      expect(FOREIGN_RECORDS_METRIC).toBe('CommandsNotFromQueue');
    });

    it('deployed: SQS is asked about the receipt handle on the configured queue, never the record’s', async () => {
      const asked: { QueueUrl?: string; ReceiptHandle?: string }[] = [];
      const answers: Record<string, Error | undefined> = {
        good: undefined,
        forged: Object.assign(new Error('The receipt handle is not valid.'), { name: 'ReceiptHandleIsInvalid' }),
        throttled: Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled' }),
      };
      const client = {
        send: async (command: { input: { QueueUrl?: string; ReceiptHandle?: string } }) => {
          asked.push(command.input);
          const error = answers[command.input.ReceiptHandle ?? ''];
          if (error) throw error;
          return {};
        },
      };
      const queue = {
        url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/commands',
        arn: 'arn:aws:sqs:eu-west-1:123456789012:commands',
        visibilityTimeoutSeconds: 360,
      };
      const prove = sqsProvenance(queue, client as never);
      const record = (receiptHandle: string, eventSourceARN = queue.arn) => ({
        ...forged(),
        receiptHandle,
        eventSourceARN,
      });
      await expect(prove(record('good'))).resolves.toBeUndefined();
      await expect(prove(record('forged'))).rejects.toMatchObject({ name: 'ForeignRecordError' });
      // Another queue's record is refused without asking SQS at all.
      const count = asked.length;
      await expect(prove(record('good', 'arn:aws:sqs:eu-west-1:999999999999:commands'))).rejects.toMatchObject({
        name: 'ForeignRecordError',
      });
      expect(asked.length).toBe(count);
      // SQS unavailable is not proof of forgery: the record is tried again, not dropped.
      await expect(prove(record('throttled'))).rejects.toMatchObject({ name: 'RequestThrottled' });
      expect(asked.every((input) => input.QueueUrl === queue.url)).toBe(true);
    });
  });

  describe('the mode is the deployment’s', () => {
    it('AUTHORIZER=jwt without issuer or audience fails at init; the stack’s variables make a JWT identity', () => {
      expect(() => readConfig({ AUTHORIZER: 'jwt' })).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
      expect(() => readConfig({ AUTHORIZER: 'oidc' })).toThrow(/AUTHORIZER must be one of iam, jwt/);
      const config = readConfig({
        AUTHORIZER: 'jwt',
        JWT_ISSUER: 'https://login.example.com/t/v2.0',
        JWT_AUDIENCE: 'a,b',
        JWT_PURCHASE_SCOPE: 'Orders.Buy',
      });
      expect(config.jwt).toEqual({
        issuer: 'https://login.example.com/t/v2.0',
        audience: ['a', 'b'],
        scopes: { purchase: 'Orders.Buy', read: 'partner-orders/read' },
      });
      expect(identityFrom(config).mode).toBe('jwt');
      expect(identityFrom(readConfig({})).mode).toBe('iam');
    });

    it('IAM mode reads the IAM authorizer only: forged JWT claims there are anonymous, not the user they name', async () => {
      const iam = identityFrom(readConfig({}));
      expect(await iam.identify(withAuthorizer(orderEvent(), FORGED_JWT(issuer.url)))).toEqual({
        caller: 'http:anonymous',
        groups: [],
      });
      expect((await iam.identify(withAuthorizer(orderEvent(), FORGED_IAM))).caller).toBe(
        'http:iam:arn:aws:iam::111122223333:role/Buyer',
      );
    });
  });
});
