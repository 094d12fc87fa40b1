// The throughput baseline: what `npm start` would be with nothing of ours in it. One process, as `npm start` is, holding
// the Partner Center simulator (latency 0) and a bare node:http proxy that forwards each request's body to the same
// simulator route with a bearer token (redeemed once, at start) and the MS-* headers our client sends, and returns the
// answer as it came. No routing table, no validation, no middleware, no logging.
//
// Run as a child process by bench/throughput.ts: `node --import tsx bench/bare-proxy.ts` with PORT set; prints
// "bare proxy listening on URL" when ready.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { redeemToken } from '../functions/shared/auth.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../local/simulator/index.js';

const simulator = new PartnerCenterSimulator({ latencyMs: 0 });
const upstream = await simulator.start();
const { accessToken } = await redeemToken({
  authorityUrl: upstream,
  credentials: DEFAULT_SIMULATOR_CREDENTIALS,
  refreshToken: DEFAULT_SIMULATOR_CREDENTIALS.refreshToken,
});

const server = createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const answer = await fetch(`${upstream}/v1${request.url ?? '/'}`, {
    method: request.method ?? 'GET',
    headers: {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'MS-RequestId': randomUUID(),
      'MS-CorrelationId': randomUUID(),
      'MS-Contract-Version': 'v1',
    },
    ...(body.length > 0 ? { body } : {}),
  });
  const text = await answer.text();
  response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
});

const port = Number(process.env.PORT ?? 0);
server.listen(port, '127.0.0.1', () => console.log(`bare proxy listening on http://127.0.0.1:${port}`));
const stop = () => {
  server.close();
  server.closeAllConnections();
  void simulator.stop();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
