// Name-based ids: the same name always gives the same id. That is what lets a retry reuse its MS-RequestId, and two
// token keepers racing from one secret version compete for the same ClientRequestToken.
import { createHash } from 'node:crypto';

// A fixed namespace for this service (itself a v4 UUID, chosen once).
const NAMESPACE = Buffer.from('5c0b8a3e9d2f4e1ab7c6d5e4f3a2b1c0', 'hex');

/** RFC 9562 UUIDv5. */
export function uuidv5(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
