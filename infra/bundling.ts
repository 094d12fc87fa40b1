// How every function is bundled: one definition that CDK's NodejsFunction and `npm run bench:cold` both use, so the
// benchmark measures exactly what is deployed.
import type { BuildOptions } from 'esbuild';

/** Node.js major of the Lambda runtime (`nodejs24.x`); esbuild targets the same. */
export const NODE_TARGET = 'node24';

/**
 * Some dependencies are CommonJS and call `require`, which an ESM bundle does not have (Powertools #2290): give it
 * one. Named so as not to clash with a bundled module's own `require`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * Each option was measured on its own against the alternatives (`npm run bench:cold -- --options`, the purchase
 * functions' load + first call in CPU time, 2026-12-05, docs/performance.md): what is set here is the best of each,
 * and esbuild's defaults not set here (tree shaking on, keepNames off, legal comments at the end) are too. Dropping
 * minify cost +3 to +27 ms, tree shaking off +51 to +61 ms, `mainFields` in esbuild's order +71 to +83 ms, target
 * es2020 +19 to +26 ms, keepNames +36 to +39 ms, `conditions: ['module']` +23 to +34 ms; `legalComments: 'none'`
 * (−0.4 KB) and CommonJS output were within the noise.
 */
export const bundling = {
  format: 'esm',
  target: NODE_TARGET,
  platform: 'node',
  minify: true,
  sourcemap: true,
  banner: ESM_REQUIRE_BANNER,
  /** ESM entry points first, so that tree shaking works on packages that ship both. */
  mainFields: ['module', 'main'],
  /**
   * Nothing is external: the AWS SDK is bundled (pinned by our lockfile, tree-shaken to the one client a function
   * uses) rather than taken from the runtime, whose SDK version changes under us; and a cold start loads it faster
   * from the bundle than from the runtime's node_modules (+62 to +76 ms CPU when external, measured as above).
   */
  external: [] as string[],
  /**
   * `node:http` imported as CommonJS sees it (infra/builtins/http.cjs). An ESM import of a built-in reads all its
   * exports, and node:http's WebSocket, CloseEvent and MessageEvent getters then compile undici (nodejs/node#57649),
   * which nothing here uses (functions/shared/transport.ts): ~20–40 ms of CPU at every cold start. Paths are from the
   * project root, where CDK runs esbuild.
   */
  alias: {
    http: './infra/builtins/http.cjs',
    'node:http': './infra/builtins/http.cjs',
    /**
     * The SDK's default credential chain, as Lambda runs it: the role's credentials from the environment, one provider
     * for every client (infra/builtins/aws-credentials.ts). The rest of the chain (SSO, ini files, process, web
     * identity, instance metadata, and the STS and SSO clients they build) never runs in Lambda and was 130 KB of
     * every bundle. Only the deployed bundles get it: the local server, the tests and the CLI keep the full chain.
     */
    '@aws-sdk/credential-provider-node': './infra/builtins/aws-credentials.ts',
  } as Record<string, string>,
} as const;

/**
 * The same bundling as esbuild options, for what bundles outside CDK (`npm run bench:cold`, bench/policy.ts): the
 * function's entry to `outfile`, with its metafile (what each input put in the bundle).
 */
export const esbuildOptions = (entry: string, outfile: string) =>
  ({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: bundling.platform,
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourcemap,
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    external: [...bundling.external],
    alias: Object.fromEntries(
      Object.entries(bundling.alias).map(([from, to]) => [from, new URL(`../${to}`, import.meta.url).pathname]),
    ),
    metafile: true,
    logLevel: 'error',
  }) satisfies BuildOptions;

import { functionNames } from '../functions/shared/routes.js';

/** The functions no route serves: direct invocation of purchases, the event consumer, the refresh-token keeper, and
 * after the purchase the provisioning tracker (the tracking delay queue's consumer) and the reconciler (scheduled). */
export const INVOKE_FUNCTION = 'invoke-purchase';
export const EVENTS_FUNCTION = 'order-events';
export const KEEPER_FUNCTION = 'token-keeper';
export const TRACKER_FUNCTION = 'track-provisioning';
export const RECONCILER_FUNCTION = 'reconcile-purchases';

/** Every function folder that is deployed: the route table's, then the others. */
export const deployedFunctions = [
  ...functionNames,
  INVOKE_FUNCTION,
  EVENTS_FUNCTION,
  KEEPER_FUNCTION,
  TRACKER_FUNCTION,
  RECONCILER_FUNCTION,
] as const;
export type DeployedFunction = (typeof deployedFunctions)[number];

/** The function folders and their entry files (`functions/<name>/handler.ts`). */
export const entryOf = (functionName: string) =>
  new URL(`../functions/${functionName}/handler.ts`, import.meta.url).pathname;
