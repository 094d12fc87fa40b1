// `GET /v1/customers/{customer-tenant-id}` (get-a-customer-by-id): every GUID is one of the simulator's customers
// except the two test hooks, which the customer guard (routes.ts) answers 404/60003 and 403/20002 before this runs.
import { type HandlerResult, json, type RouteContext } from './http.js';
import { link } from './models.js';

export function getCustomer(ctx: RouteContext): HandlerResult {
  const id = ctx.params.customerId.toLowerCase();
  return {
    reply: json(200, {
      id,
      companyProfile: {
        tenantId: id,
        domain: `customer-${id.slice(0, 8)}.onmicrosoft.com`,
        companyName: `Simulated customer ${id.slice(0, 8)}`,
        attributes: { objectType: 'CustomerCompanyProfile' },
      },
      relationshipToPartner: 'reseller',
      allowDelegatedAccess: true,
      links: { self: link(`/customers/${id}`) },
      attributes: { objectType: 'Customer' },
    }),
  };
}
