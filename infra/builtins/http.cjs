// node:http as CommonJS sees it (infra/bundling.ts, `alias`): an ESM import of it reads every export, and its
// WebSocket getters compile undici (nodejs/node#57649).
module.exports = process.getBuiltinModule('node:http');
