// What the exactly-once design rests on, as the simulator must show it (issue 19, "Simulator fidelity"): a checkout
// places one order per billing cycle (an Order carries one billingCycle), a second checkout of an Ordered cart answers
// the first result, two checkouts of one cart at once place it once, an add-on cart line names its base subscription,
// and the orders list can lag a new order as Partner Center documents.
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CartCheckoutResult,
  DEFAULT_SIMULATOR_CREDENTIALS as CREDS,
  type Order,
  PARTNER_CENTER_RESOURCE,
  PartnerCenterSimulator,
  type SimulatorOptions,
} from '../../local/simulator/index.js';

const CUSTOMER = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const NCE = 'CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P';
const ADD_ON = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ';

let simulator: PartnerCenterSimulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function start(options: SimulatorOptions = {}) {
  simulator = new PartnerCenterSimulator({ dedupe: 'off', ...options });
  const url = await simulator.start();
  const token = await fetch(`${url}/${CREDS.tenantId}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
      resource: PARTNER_CENTER_RESOURCE,
    }),
  });
  const { access_token } = (await token.json()) as { access_token: string };
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/v1/customers/${CUSTOMER}${path}`, {
      method,
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as never };
  };
  return { simulator, call };
}

const line = (id: number, billingCycle: string, extra: Record<string, unknown> = {}) => ({
  id,
  catalogItemId: NCE,
  quantity: 1 + id,
  billingCycle,
  termDuration: 'P1Y',
  ...extra,
});

describe('simulator: carts as the exactly-once design needs them', () => {
  it('a checkout places one order per billing cycle, each labelled with its own', async () => {
    const { call } = await start();
    const cart = await call('POST', '/carts', {
      lineItems: [line(0, 'monthly'), line(1, 'annual'), line(2, 'monthly')],
    });
    const groups = (cart.json as { lineItems: { orderGroup: string }[] }).lineItems.map((l) => l.orderGroup);
    expect(groups).toEqual(['0', '1', '0']);
    const checkout = await call('POST', `/carts/${(cart.json as { id: string }).id}/checkout`);
    const orders = (checkout.json as CartCheckoutResult).orders;
    expect(orders.map((o) => [o.billingCycle, o.lineItems.length])).toEqual([
      ['monthly', 2],
      ['annual', 1],
    ]);
  });

  it('a second checkout of an Ordered cart answers the first result and places nothing', async () => {
    const { simulator, call } = await start();
    const cart = await call('POST', '/carts', { lineItems: [line(0, 'monthly')] });
    const path = `/carts/${(cart.json as { id: string }).id}/checkout`;
    const first = await call('POST', path);
    const second = await call('POST', path);
    expect(second.json).toEqual(first.json);
    expect(simulator.ledger.orders).toHaveLength(1);
  });

  it('two checkouts of one cart at once place it once (the second: 409 800064, or the first result)', async () => {
    const { simulator, call } = await start({ latencyMs: 100 });
    const cart = await call('POST', '/carts', { lineItems: [line(0, 'monthly')] });
    const path = `/carts/${(cart.json as { id: string }).id}/checkout`;
    const answers = await Promise.all([call('POST', path), call('POST', path)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    expect(answers.find((a) => a.status === 409)?.json).toMatchObject({ code: 800064 });
    expect(simulator.ledger.orders).toHaveLength(1);
  });

  it('a cart line naming a ParentSubscriptionId is an add-on to it; one that is not the customer’s is refused', async () => {
    const { call } = await start();
    const base = await call('POST', '/carts', { lineItems: [line(0, 'monthly')] });
    const placed = await call('POST', `/carts/${(base.json as { id: string }).id}/checkout`);
    const parent = (placed.json as CartCheckoutResult).orders[0]?.lineItems[0]?.subscriptionId;
    const addOn = await call('POST', '/carts', {
      lineItems: [
        { ...line(0, 'monthly'), catalogItemId: ADD_ON, provisioningContext: { ParentSubscriptionId: parent } },
      ],
    });
    const checkout = await call('POST', `/carts/${(addOn.json as { id: string }).id}/checkout`);
    expect((checkout.json as CartCheckoutResult).orders[0]?.lineItems[0]).toMatchObject({
      parentSubscriptionId: parent,
    });
    const stranger = await call('POST', '/carts', {
      lineItems: [
        {
          ...line(0, 'monthly'),
          provisioningContext: { ParentSubscriptionId: '00000000-0000-4000-8000-000000000000' },
        },
      ],
    });
    expect(stranger).toMatchObject({ status: 400, json: { code: 800029 } });
  });

  it('the orders list lags a new order by listLagMs (GET of the order itself does not)', async () => {
    let now = Date.parse('2026-12-05T00:00:00Z');
    const { call } = await start({ now: () => now, listLagMs: 900_000 });
    const cart = await call('POST', '/carts', { lineItems: [line(0, 'monthly')] });
    const placed = await call('POST', `/carts/${(cart.json as { id: string }).id}/checkout`);
    const order = (placed.json as CartCheckoutResult).orders[0] as Order;
    const listed = async () => (await call('GET', '/orders')).json as { items: Order[] };
    expect((await listed()).items).toEqual([]);
    expect((await call('GET', `/orders/${order.id}`)).status).toBe(200);
    now += 899_000;
    expect((await listed()).items).toEqual([]);
    now += 1_000;
    expect((await listed()).items.map((o) => o.id)).toEqual([order.id]);
  });
});
