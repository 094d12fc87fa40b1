// `npx tsx bench/journal-encoding.ts`: the CPU of the journal's encoding per keyed purchase (issue 22, our CPU),
// before and after it stored short JSON as a string (exactly-once/records.ts, PLAIN_JSON_MAX_LENGTH). Per purchase
// the journal encodes the cart and the command once, and decodes both from each write's answer (ReturnValues
// ALL_NEW): twice before (recordCartSending, settled), once now (`decodeOnce`). process.cpuUsage, so a busy machine
// stretches it less than wall time; alternated, three rounds.
import { gunzipSync, gzipSync } from 'node:zlib';

const cart = {
  id: '3655b1a0-b1c9-4268-9824-577fdbc4d0be',
  creationTimestamp: '2026-12-05T08:00:00Z',
  lastModifiedTimestamp: '2026-12-05T08:00:00Z',
  expirationTimestamp: '2026-12-12T08:00:00Z',
  status: 'Active',
  lineItems: [
    {
      id: 0,
      catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
      quantity: 5,
      billingCycle: 'monthly',
      termDuration: 'P1Y',
      currencyCode: 'USD',
      participants: [],
      provisioningContext: {},
      error: null,
    },
  ],
  links: { self: { uri: '/customers/x/carts/y', method: 'GET', headers: [] } },
  attributes: { objectType: 'Cart' },
};
const command = {
  caller: 'http:iam:arn:aws:iam::123456789012:user/buyer',
  operation: 'createOrder',
  customerId: '4a0a2f4e-1c2b-4e0e-9a53-3f3f0f0e0e0e',
  idempotencyKey: 'k-0123456789',
  input: {
    lineItems: [
      { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' },
    ],
  },
  inputDigest: 'a'.repeat(64),
};
const N = Number(process.env.N ?? 20_000);

function perPurchaseUs(
  encode: (json: string) => string | Buffer,
  decode: (v: string | Buffer) => unknown,
  reads: number,
) {
  const started = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const c = encode(JSON.stringify(cart));
    const m = encode(JSON.stringify(command));
    for (let r = 0; r < reads; r++) {
      decode(c);
      decode(m);
    }
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / N;
}

const gzip = (json: string) => gzipSync(json);
const gunzip = (v: string | Buffer) => JSON.parse(gunzipSync(v as Buffer).toString('utf8'));
const plain = (json: string) => json;
const parse = (v: string | Buffer) => JSON.parse(String(v));
for (let round = 1; round <= 3; round++) {
  const before = perPurchaseUs(gzip, gunzip, 2);
  const after = perPurchaseUs(plain, parse, 1);
  console.log(
    `round ${round}: journal encoding per purchase ${before.toFixed(1)} µs before, ${after.toFixed(1)} µs after`,
  );
}
