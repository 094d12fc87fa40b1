// New-PartnerCustomerOrder placed through a cart (services/orders.ts): every order field lands on the cart line that
// carries it, and the answer is the Order — or, when Partner Center splits the cart, every order it placed.
import { describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../functions/shared/purchase/model.js';
import { addOnToOrder, cartForOrder, createOrder } from '../../functions/shared/services/orders.js';

const PARENT = '1c2b75c1-74a5-472a-a729-7f8cefc477f9';

describe('an order as a cart', () => {
  it('maps every order field onto the cart line that carries it', () => {
    expect(
      cartForOrder({
        billingCycle: 'annual',
        partnerOnRecordAttestationAccepted: true,
        lineItems: [
          {
            offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
            quantity: 5,
            lineItemNumber: 1,
            termDuration: 'P1Y',
            friendlyName: 'Sales',
            provisioningContext: { scope: 'shared' },
            partnerIdOnRecord: '1234567',
          },
          { offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ', quantity: 2, lineItemNumber: 0, parentSubscriptionId: PARENT },
        ],
      }),
    ).toEqual({
      partnerOnRecordAttestationAccepted: true,
      lineItems: [
        {
          id: 1,
          catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
          quantity: 5,
          billingCycle: 'annual',
          termDuration: 'P1Y',
          friendlyName: 'Sales',
          provisioningContext: { scope: 'shared' },
          participants: [{ key: 'transaction_reseller', value: '1234567' }],
        },
        {
          id: 0,
          catalogItemId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ',
          quantity: 2,
          billingCycle: 'annual',
          provisioningContext: { ParentSubscriptionId: PARENT },
        },
      ],
    });
  });

  it('bills monthly when the order names no billing cycle (the Order resource’s default), numbering lines by index', () => {
    const cart = cartForOrder({
      lineItems: [
        { offerId: 'A:B:C', quantity: 1 },
        { offerId: 'D:E:F', quantity: 2 },
      ],
    });
    expect(cart.lineItems.map((line) => [line.id, line.billingCycle])).toEqual([
      [0, 'monthly'],
      [1, 'monthly'],
    ]);
  });

  const answering = (checkout: unknown, order?: unknown): ServiceContext => ({
    correlationId: 'c',
    deadline: Date.now() + 10_000,
    dryRun: false,
    partnerCenter: {
      describe: () => {
        throw new Error('not a dry run');
      },
      send: async (request) => ({
        status: request.method === 'GET' ? 200 : 201,
        body: request.method === 'GET' ? order : request.path.endsWith('/checkout') ? checkout : { id: 'cart-1' },
        ids: { requestId: 'r', correlationId: 'c' },
        attempts: 1,
      }),
    },
  });
  const order = (id: string) => ({ id, lineItems: [{ lineItemNumber: 0, subscriptionId: `sub-${id}` }] });

  it('answers the Order when the checkout placed one', async () => {
    const result = await createOrder(answering({ orders: [order('o-1')], orderErrors: [] }), {
      customerId: 'c',
      order: { lineItems: [{ offerId: 'A:B:C', quantity: 1 }] },
    });
    expect(result).toEqual({ status: 201, body: order('o-1'), reconciled: false });
  });

  it('answers every order (the checkout result) when Partner Center split the cart, or some groups failed', async () => {
    const split = { orders: [order('o-1'), order('o-2')], orderErrors: [] };
    const placed = await createOrder(answering(split), {
      customerId: 'c',
      order: { lineItems: [{ offerId: 'A:B:C', quantity: 1 }] },
    });
    expect(placed.body).toEqual(split);
    const partial = { orders: [order('o-1')], orderErrors: [{ orderGroupId: '1', code: 800005 }] };
    const some = await createOrder(answering(partial), {
      customerId: 'c',
      order: { lineItems: [{ offerId: 'A:B:C', quantity: 1 }] },
    });
    expect(some.body).toEqual({ ...partial, partial: true });
  });

  it('refuses an add-on whose parent is not a subscription of the order, before any cart exists', async () => {
    const sent: string[] = [];
    const ctx = answering({ orders: [order('o-2')] }, order('o-1'));
    const send = ctx.partnerCenter.send;
    ctx.partnerCenter = {
      ...ctx.partnerCenter,
      send: (request, options) => {
        sent.push(`${request.method} ${request.path}`);
        return send(request, options);
      },
    };
    await expect(
      addOnToOrder(
        { ...ctx, payloadPath: '/detail' },
        {
          customerId: 'c',
          orderId: 'o-1',
          order: { lineItems: [{ offerId: 'A:B:C', quantity: 1, parentSubscriptionId: PARENT }] },
        },
      ),
    ).rejects.toMatchObject({ status: 400, errors: [{ path: '/detail/lineItems/0/parentSubscriptionId' }] });
    expect(sent).toEqual(['GET /v1/customers/c/orders/o-1']);
  });
});
