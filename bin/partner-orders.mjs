#!/usr/bin/env node
// `npx partner-orders …` in this repository: the CLI is TypeScript run through tsx (a devDependency, so this needs
// `npm ci`, not `npm ci --omit=dev`). tsx's ESM loader is registered for this process, then cli/main.ts runs.
// Works on Node ≥ 20.6 (module.register); the repo's scripts use Node 24.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Pinned to the repo's tsconfig so that running from another directory does not pick up a different one.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { run } = await import('../cli/main.ts');
await run();
