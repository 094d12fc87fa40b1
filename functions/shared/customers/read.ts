// One cheap read that says whether a customer exists and is this partner's: `GET /v1/customers/{id}` (get-a-customer-
// by-id). Partner Center's refusals of it (60003, 900118, 20002) become 404 customer-not-found (problem.ts).
import { Customer, type CustomerView } from '../schemas/customers.js';
import { type ServiceContext, segment, sendFor } from '../services/context.js';

export async function readCustomer(ctx: ServiceContext, customerId: string): Promise<CustomerView> {
  const customer = await sendFor(
    ctx,
    'read-customer',
    { method: 'GET', path: `/v1/customers/${segment(customerId)}` },
    Customer,
    'a customer',
  );
  return {
    customerId: customer.id.toLowerCase(),
    companyName: customer.companyProfile?.companyName ?? null,
    domain: customer.companyProfile?.domain ?? null,
    relationshipToPartner: customer.relationshipToPartner ?? null,
  };
}
