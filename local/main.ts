// `npm start`: the API on http://127.0.0.1:3000 (PORT), backed by the embedded Partner Center simulator, or by a
// real Partner Center when PARTNER_CENTER_URL, PARTNER_CENTER_AUTHORITY_URL and PARTNER_CENTER_CREDENTIALS are set.
import type { FunctionName } from '../functions/shared/routes.js';
import { examples } from './examples.js';
import { createLocalServer, type LambdaHttpHandler } from './server.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from './simulator/index.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

let simulator: PartnerCenterSimulator | undefined;
if (!process.env.PARTNER_CENTER_URL) {
  simulator = new PartnerCenterSimulator({ latencyMs: Number(process.env.SIMULATOR_LATENCY_MS ?? 0) });
  const url = await simulator.start(Number(process.env.SIMULATOR_PORT ?? 0));
  // The handlers read their configuration when they load, so the simulator's address is set before importing them.
  process.env.PARTNER_CENTER_URL = url;
  process.env.PARTNER_CENTER_AUTHORITY_URL = url;
  process.env.PARTNER_CENTER_CREDENTIALS = JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS);
} else if (!process.env.PARTNER_CENTER_CREDENTIALS && !process.env.PARTNER_CENTER_SECRET_ID) {
  console.error('PARTNER_CENTER_URL is set: also set PARTNER_CENTER_CREDENTIALS (JSON) or PARTNER_CENTER_SECRET_ID.');
  process.exit(2);
}

const [order, cart] = await Promise.all([
  import('../functions/create-order/handler.js'),
  import('../functions/create-cart/handler.js'),
]);
const handlers: Record<FunctionName, LambdaHttpHandler> = {
  'create-order': order.handler,
  'create-cart': cart.handler,
};
const server = createLocalServer({ handlers });

server.listen(port, host, () => {
  const base = `http://${host}:${port}`;
  const upstream = simulator
    ? `the embedded Partner Center simulator (${simulator.url})`
    : process.env.PARTNER_CENTER_URL;
  console.log(`partner-orders listening on ${base}, talking to ${upstream}\n`);
  for (const example of examples) console.log(`# ${example.title}\n${example.command(base)}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  void simulator?.stop();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
