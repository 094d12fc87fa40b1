// Partner Center's Customer resource (customer-resources: `GET /v1/customers/{customer-tenant-id}`), read leniently:
// only what `GET /customers/{customerId}` answers is named, everything else passes through untouched.
import * as z from 'zod/mini';

const text = z.optional(z.nullable(z.string()));

export const Customer = z.looseObject({
  id: z.string(),
  companyProfile: z.optional(z.nullable(z.looseObject({ tenantId: text, domain: text, companyName: text }))),
  relationshipToPartner: text,
});
export type Customer = z.infer<typeof Customer>;

/** What `GET /customers/{customerId}` answers: the customer exists and is this partner's. */
export interface CustomerView {
  customerId: string;
  companyName: string | null;
  domain: string | null;
  relationshipToPartner: string | null;
}
