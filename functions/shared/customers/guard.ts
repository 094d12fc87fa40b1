// An unknown or unrelated customer is one answer whatever found it out (the catalog pre-flight's first read, the
// purchase itself) and whichever entry point asked: 404 customer-not-found naming where the caller put the id. A dry
// run learns it from the pre-flight's catalog reads; with PREFLIGHT=off or only legacy offer ids it reads nothing, and
// cannot tell (`partner-orders customer check` can).

import { CustomerNotFoundError, isCustomerRefusal, type PartnerCenterError } from '../errors.js';
import type { Command } from '../purchase/model.js';

/** `/path/customerId` on HTTP (the key is a header), else next to the key: `/detail/customerId`, `/customerId`. */
export const customerIdPath = (idempotencyKeyPath: string) =>
  idempotencyKeyPath.startsWith('/headers/')
    ? '/path/customerId'
    : `${idempotencyKeyPath.slice(0, idempotencyKeyPath.lastIndexOf('/'))}/customerId`;

export function customerGuard(command: Command, where: { idempotencyKeyPath: string }): Command {
  const path = customerIdPath(where.idempotencyKeyPath);
  return {
    ...command,
    run: async (ctx) => {
      try {
        return await command.run(ctx);
      } catch (error) {
        if (isCustomerRefusal(error)) throw new CustomerNotFoundError(path, error as PartnerCenterError);
        throw error;
      }
    },
  };
}
