// The simulator after a purchase, over HTTP as any client sees it: orders start pending and complete after the
// configured delay (simulator clock), the provisioning status and the subscriptions of an order are served with the
// documented field names, add-on lines provision on their own time, and faults apply to these endpoints too.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIMULATOR_CREDENTIALS as CREDS,
  PARTNER_CENTER_RESOURCE,
  PartnerCenterSimulator,
  STALLED_MARKER,
} from '../../local/simulator/index.js';
import { provisioningDelayFromEnv } from '../../local/simulator/server.js';

const CUSTOMER = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const OTHER_CUSTOMER = '9b2504e0-4f89-11d3-9a0c-0305e82c3309';
const NCE = 'CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P';
const DELAY_MS = 5 * 60_000;

describe('simulator: provisioning after a purchase', () => {
  let clock = Date.parse('2026-02-01T09:00:00Z');
  let sim: PartnerCenterSimulator;
  let token = '';
  // biome-ignore lint/suspicious/noExplicitAny: wire JSON of every shape
  const call = async (method: string, path: string, body?: unknown): Promise<[number, any]> => {
    const response = await fetch(`${sim.url}/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return [response.status, await response.json()];
  };
  const order = async (offers = [NCE], customer = CUSTOMER) => {
    const [status, placed] = await call('POST', `/customers/${customer}/orders`, {
      billingCycle: 'monthly',
      lineItems: offers.map((offerId, i) => ({ lineItemNumber: i, offerId, quantity: 3 + i, termDuration: 'P1Y' })),
    });
    expect(status).toBe(201);
    return placed;
  };

  beforeAll(async () => {
    sim = new PartnerCenterSimulator({
      now: () => clock,
      provisioningDelayMs: DELAY_MS,
      tokenLifetimeSeconds: 86_400 * 30,
    });
    await sim.start();
    const response = await fetch(`${sim.url}/${CREDS.tenantId}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CREDS.clientId,
        client_secret: CREDS.clientSecret,
        resource: PARTNER_CENTER_RESOURCE,
      }),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(() => sim.stop());
  beforeEach(() => sim.clearFaults());

  it('keeps an order pending, its lines Unfulfilled, until the delay has passed; then completed and Fulfilled', async () => {
    const placed = await order([NCE, NCE.replace('0001', '0002')]);
    expect(placed.status).toBe('pending');
    const status = () => call('GET', `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`);
    const [code, pending] = await status();
    expect(code).toBe(200);
    // The documented shape: a ResourceCollection of OrderLineItemProvisioningStatus.
    expect(pending).toEqual({
      totalCount: 2,
      items: [
        {
          lineItemNumber: 0,
          status: 'Unfulfilled',
          quantityProvisioningInformation: [{ quantity: 3, status: 'Unfulfilled' }],
        },
        {
          lineItemNumber: 1,
          status: 'Unfulfilled',
          quantityProvisioningInformation: [{ quantity: 4, status: 'Unfulfilled' }],
        },
      ],
      links: {
        self: expect.objectContaining({ uri: `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus` }),
      },
      attributes: { objectType: 'Collection' },
    });
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}`))[1].status).toBe('pending');
    // The order's own link points at it, as Partner Center's does.
    expect(placed.links.provisioningStatus.uri).toBe(`/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`);

    clock += DELAY_MS - 1;
    expect((await status())[1].items[0].status).toBe('Unfulfilled');
    clock += 1;
    expect((await status())[1].items.map((i: { status: string }) => i.status)).toEqual(['Fulfilled', 'Fulfilled']);
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}`))[1].status).toBe('completed');
    const [, list] = await call('GET', `/customers/${CUSTOMER}/orders`);
    expect(list.items.find((o: { id: string }) => o.id === placed.id).status).toBe('completed');
    expect(sim.ledger.orders.find((o) => o.id === placed.id)?.status).toBe('completed');
  });

  it('serves the subscriptions an order created (subscriptions?order_id=…), pending until provisioned', async () => {
    const placed = await order([NCE, NCE.replace('0001', '0003')]);
    await order([NCE]);
    const [code, subscriptions] = await call('GET', `/customers/${CUSTOMER}/subscriptions?order_id=${placed.id}`);
    expect(code).toBe(200);
    expect(subscriptions.totalCount).toBe(2);
    expect(subscriptions.attributes).toEqual({ objectType: 'Collection' });
    expect(subscriptions.items).toEqual(
      placed.lineItems.map((line: { subscriptionId: string; offerId: string; quantity: number }) =>
        expect.objectContaining({
          id: line.subscriptionId,
          offerId: line.offerId,
          quantity: line.quantity,
          orderId: placed.id,
          status: 'pending',
          billingCycle: 'monthly',
          termDuration: 'P1Y',
          attributes: { objectType: 'Subscription' },
        }),
      ),
    );
    clock += DELAY_MS;
    const [, later] = await call('GET', `/customers/${CUSTOMER}/subscriptions?order_id=${placed.id}`);
    expect(later.items.map((s: { status: string }) => s.status)).toEqual(['active', 'active']);
    // Without order_id: every subscription of the customer, and only of this customer.
    await order([NCE], OTHER_CUSTOMER);
    const [, all] = await call('GET', `/customers/${CUSTOMER}/subscriptions`);
    const mine = sim.ledger.orders.filter((o) => o.referenceCustomerId === CUSTOMER).flatMap((o) => o.lineItems);
    expect(all.totalCount).toBe(mine.length);
  });

  it('never provisions a STALLED line: its order completes, the line stays Unfulfilled', async () => {
    const placed = await order([NCE, `CFQ7TTC0LH0Z:0009:${STALLED_MARKER}`]);
    clock += 10 * DELAY_MS;
    const [, status] = await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`);
    expect(status.items.map((i: { status: string }) => i.status)).toEqual(['Fulfilled', 'Unfulfilled']);
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}`))[1].status).toBe('completed');
  });

  it('provisions add-on lines on their own time, the order pending again meanwhile', async () => {
    const placed = await order();
    clock += DELAY_MS;
    const [patched, updated] = await call('PATCH', `/customers/${CUSTOMER}/orders/${placed.id}`, {
      billingCycle: 'monthly',
      lineItems: [
        {
          lineItemNumber: 0,
          offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ',
          quantity: 2,
          parentSubscriptionId: placed.lineItems[0].subscriptionId,
        },
      ],
    });
    expect(patched, JSON.stringify(updated)).toBe(200);
    const status = async () =>
      (await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`))[1].items.map(
        (i: { status: string }) => i.status,
      );
    expect(await status()).toEqual(['Fulfilled', 'Unfulfilled']);
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${updated.id}`))[1].status).toBe('pending');
    clock += DELAY_MS;
    expect(await status()).toEqual(['Fulfilled', 'Fulfilled']);
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}`))[1].status).toBe('completed');
  });

  it('lets a test set any order status, documented or not, and keeps it', async () => {
    const placed = await order();
    expect(sim.setOrderStatus(placed.id, 'po_upload_complete')).toBe(true);
    clock += DELAY_MS;
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}`))[1].status).toBe('po_upload_complete');
    sim.setOrderStatus(placed.id, 'cancelled');
    const [, status] = await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`);
    expect(status.items[0].status).toBe('Unfulfilled');
    expect(sim.setOrderStatus('Cs_none', 'completed')).toBe(false);
  });

  it('answers 404 for an unknown order, checks the customer, and applies faults to the new endpoints', async () => {
    expect((await call('GET', `/customers/${CUSTOMER}/orders/Cs_none/provisioningstatus`))[0]).toBe(404);
    expect((await call('GET', '/customers/not-a-guid/subscriptions'))[0]).toBe(400);
    expect((await call('POST', `/customers/${CUSTOMER}/subscriptions`, {}))[0]).toBe(405);
    sim.injectFault({ kind: 'server-error', times: 1, match: { path: /provisioningstatus/ } });
    sim.injectFault({ kind: 'throttle', retryAfterSeconds: 7, times: 1, match: { path: /subscriptions/ } });
    const placed = await order();
    expect((await call('GET', `/customers/${CUSTOMER}/orders/${placed.id}/provisioningstatus`))[0]).toBe(500);
    const [throttled, body] = await call('GET', `/customers/${CUSTOMER}/subscriptions?order_id=${placed.id}`);
    expect(throttled).toBe(429);
    expect(body.message).toContain('7 seconds');
    expect(sim.requests.filter((r) => r.fault).map((r) => r.fault)).toEqual(['server-error', 'throttle']);
  });

  it('completes orders at once without a delay (the default), and reads SIMULATOR_PROVISIONING_SECONDS', async () => {
    const instant = new PartnerCenterSimulator({ provisioningDelayMs: 0 });
    await instant.start();
    try {
      const response = await fetch(`${instant.url}/${CREDS.tenantId}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: CREDS.clientId,
          client_secret: CREDS.clientSecret,
          resource: PARTNER_CENTER_RESOURCE,
        }),
      });
      const access = ((await response.json()) as { access_token: string }).access_token;
      const placed = await fetch(`${instant.url}/v1/customers/${CUSTOMER}/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ lineItems: [{ lineItemNumber: 0, offerId: NCE, quantity: 1 }] }),
      });
      // The answer to the purchase says pending (as Partner Center's does); the order is completed at once.
      const answer = (await placed.json()) as { status: string };
      expect(answer.status, JSON.stringify(answer)).toBe('pending');
      expect(instant.ledger.orders[0]?.status).toBe('completed');
    } finally {
      await instant.stop();
    }
    expect(provisioningDelayFromEnv(undefined)).toBe(0);
    expect(provisioningDelayFromEnv('30')).toBe(30_000);
    expect(() => provisioningDelayFromEnv('-1')).toThrow(/SIMULATOR_PROVISIONING_SECONDS/);
  });
});
