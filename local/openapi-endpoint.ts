// `GET /openapi.json` on the local server: the OpenAPI document generated from the route table and the zod schemas
// (the same document `npm run openapi` writes to openapi.json), built once on first request. Its local `servers`
// entry is the address the request came in on (`PORT=3100 npm start` advertises port 3100), not the default.
import { buildOpenApi } from '../scripts/openapi.js';
import type { LocalEndpoint } from './server.js';

/** One rendered document per address the server was reached at (in practice one or two). */
const documents = new Map<string, string>();

export const openApiEndpoint: LocalEndpoint = async (method, url, _body, local) => {
  if ((method !== 'GET' && method !== 'HEAD') || url.pathname !== '/openapi.json') return undefined;
  const key = local?.origin ?? '';
  let document = documents.get(key);
  if (document === undefined) {
    document = `${JSON.stringify(buildOpenApi(local ? { localUrl: local.origin } : {}), null, 2)}\n`;
    documents.set(key, document);
  }
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: document };
};
