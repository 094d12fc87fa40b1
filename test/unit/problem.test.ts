import { describe, expect, it } from 'vitest';
import {
  CheckoutAfterCartError,
  CredentialsError,
  PartnerCenterError,
  RouteNotFoundError,
  UpstreamProtocolError,
  UpstreamUnavailableError,
  ValidationError,
} from '../../functions/shared/errors.js';
import { toProblem } from '../../functions/shared/problem.js';

const ids = { requestId: 'req-1', correlationId: 'corr-1' };

describe('toProblem', () => {
  it.each([
    [
      new ValidationError([{ path: '/body/x', message: 'must be a string' }]),
      400,
      'urn:partner-orders:problem:validation',
    ],
    [new ValidationError([], 413), 413, 'urn:partner-orders:problem:too-large'],
    [new ValidationError([], 415), 415, 'urn:partner-orders:problem:media-type'],
    [new RouteNotFoundError('GET', '/nope'), 404, 'urn:partner-orders:problem:not-found'],
    [
      new RouteNotFoundError('GET', '/customers/x/orders', ['POST']),
      405,
      'urn:partner-orders:problem:method-not-allowed',
    ],
    [
      new PartnerCenterError(400, ids, '800002', 'Invalid request input'),
      400,
      'urn:partner-orders:problem:partner-center-rejected',
    ],
    [new PartnerCenterError(403, ids, '13605', 'MCA'), 403, 'urn:partner-orders:problem:partner-center-rejected'],
    [
      new PartnerCenterError(404, ids, '20000', 'Order Id not found'),
      404,
      'urn:partner-orders:problem:partner-center-rejected',
    ],
    [
      new PartnerCenterError(409, ids, '800060', 'Your order is in progress'),
      409,
      'urn:partner-orders:problem:partner-center-rejected',
    ],
    [new PartnerCenterError(401, ids, '800001', 'Access denied'), 502, 'urn:partner-orders:problem:credentials'],
    [new PartnerCenterError(429, ids, undefined, undefined, 57), 429, 'urn:partner-orders:problem:throttled'],
    [
      new PartnerCenterError(500, ids, '800003', 'Unexpected service error'),
      502,
      'urn:partner-orders:problem:upstream-error',
    ],
    [new PartnerCenterError(412, ids, undefined, undefined), 502, 'urn:partner-orders:problem:upstream-error'],
    [new UpstreamUnavailableError(ids, true, 3), 504, 'urn:partner-orders:problem:upstream-timeout'],
    [new UpstreamUnavailableError(ids, false, 4), 502, 'urn:partner-orders:problem:upstream-unreachable'],
    [new UpstreamProtocolError(ids, 201, 'no order'), 502, 'urn:partner-orders:problem:upstream-protocol'],
    [
      new CredentialsError('refused', { error: 'invalid_grant', aadsts: 'AADSTS700082' }),
      502,
      'urn:partner-orders:problem:credentials',
    ],
    [new CredentialsError('secret store down', undefined, true), 503, 'urn:partner-orders:problem:credentials'],
    [new Error('boom at /var/task/index.mjs:1:2'), 500, 'urn:partner-orders:problem:internal'],
  ] as const)('%s → %i', (error, status, type) => {
    const { problem } = toProblem(error);
    expect(problem.status).toBe(status);
    expect(problem.type).toBe(type);
    expect(problem.title).toBeTruthy();
    expect(problem.detail).toBeTruthy();
    expect(JSON.stringify(problem)).not.toMatch(/\/var\/task|at .*:\d+:\d+/);
  });

  it('passes Partner Center codes through with both ids', () => {
    const { problem } = toProblem(new PartnerCenterError(403, ids, '800069', 'Order failed Risk Management check'));
    expect(problem.upstream).toEqual({
      status: 403,
      code: '800069',
      description: 'Order failed Risk Management check',
      ...ids,
    });
    expect(problem.detail).toBe('Order failed Risk Management check');
  });

  it.each([
    [404, '60003', 'Tenant not found'],
    [400, '900118', 'Invalid Customer Id'],
    [403, '20002', 'The partner id p has no commerce relationship with the customer id c.'],
  ])(
    'answers Partner Center %i/%s about the customer as 404 customer-not-found at /path/customerId',
    (status, code, text) => {
      const { problem } = toProblem(new PartnerCenterError(status, ids, code, text));
      expect(problem).toMatchObject({
        type: 'urn:partner-orders:problem:customer-not-found',
        status: 404,
        errors: [{ path: '/path/customerId' }],
        upstream: { status, code, description: text, ...ids },
      });
      // The same status with another code is still passed through.
      expect(toProblem(new PartnerCenterError(status, ids, '1000', 'x')).problem.type).toBe(
        'urn:partner-orders:problem:partner-center-rejected',
      );
    },
  );

  it('carries Retry-After on throttling and an unavailable secret store, Allow on 405', () => {
    expect(toProblem(new PartnerCenterError(429, ids, undefined, undefined, 57)).headers).toEqual({
      'Retry-After': '57',
    });
    expect(toProblem(new CredentialsError('down', undefined, true)).headers).toEqual({ 'Retry-After': '5' });
    expect(toProblem(new RouteNotFoundError('GET', '/x', ['POST', 'PATCH'])).headers).toEqual({ Allow: 'POST, PATCH' });
  });

  it('tells how to recover when the checkout of a new cart failed', () => {
    const { problem, headers } = toProblem(
      new CheckoutAfterCartError('cart-1', new PartnerCenterError(429, ids, undefined, undefined, 3)),
    );
    expect(problem).toMatchObject({ status: 429, cartId: 'cart-1' });
    expect(problem.detail).toContain('/carts/cart-1/checkout');
    expect(headers['Retry-After']).toBe('3');
  });
});
