// `GET /openapi.json` on the local server: the OpenAPI document generated from the route table and the zod schemas
// (the same document `npm run openapi` writes to openapi.json), built once on first request.
import { buildOpenApi } from '../scripts/openapi.js';
import type { LocalEndpoint } from './server.js';

let document: string | undefined;

export const openApiEndpoint: LocalEndpoint = async (method, url) => {
  if (method !== 'GET' || url.pathname !== '/openapi.json') return undefined;
  document ??= `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: document };
};
