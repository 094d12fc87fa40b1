// Whose work each sample of a V8 CPU profile is, with Node's and V8's own frames counted to the code that asked for
// them: `npm run bench:breakdown`'s OUR CPU (bench/breakdown.ts) and the local server's itemization
// (`tsx bench/profile.ts --owners`) read profiles the same way; each names frames by its own `owner`.
import { findSourceMap } from 'node:module';
import type { CpuProfile } from './cold.js';

/** A CPU profile's node with its children (V8 lists them; `CpuProfile` leaves them out). */
type ProfileNode = CpuProfile['nodes'][number] & { children?: number[] };

/** Not the purchase's work: waiting, the profiler's own frames, the bench's loop. Left out of every total. */
export const NOT_WORK = /^(\(idle\)|\(root\)|node: inspector|bench\/.*)$/;

/**
 * Whose work each sample of a profile is, with Node's and V8's own work (JSON, zlib, crypto, Buffer, timers, the
 * builtins) counted as the work of the code that asked for it: a sample whose frame is Node's or V8's (`categoryOf`
 * "Node and V8, other") belongs to its nearest caller on the stack that is not, so a `gzipSync` or a `createHash`
 * called by the journal is the journal's, and one called by the SDK's signer is the SDK's. The HTTP client and
 * sockets (node:http, undici, streams, socket writes) stay the HTTP client's even when our transport calls them: that
 * is the remote call's own cost, as the SDK's sending is, and the bare `fetch` reference pays it too. Samples with no
 * such caller (microtask and timer dispatch, GC, the event loop) stay Node's.
 *
 * Returns, per sample's node id: the owner it is counted under, and for ours, the function of ours it is in
 * (`file:line name`, the innermost frame of ours on the stack) and the Node or V8 owner it was spent in, if any.
 */
export function attributeNodes(
  profile: CpuProfile,
  owner: (frame: CpuProfile['nodes'][number]['callFrame']) => string,
): Map<number, { owner: string; ourFunction?: string; via?: string }> {
  const nodes = profile.nodes as ProfileNode[];
  const parentOf = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const result = new Map<number, { owner: string; ourFunction?: string; via?: string }>();
  // `file:line name`, the line read through the module's source map where it has one (tsx compiles each file to one
  // line).
  const ourFunction = ({ url, functionName, lineNumber, columnNumber }: CpuProfile['nodes'][number]['callFrame']) => {
    const entry = findSourceMap(url)?.findEntry(lineNumber, columnNumber) as { originalLine?: number } | undefined;
    const line = (entry?.originalLine ?? lineNumber) + 1;
    return `${url.replace(/^file:\/\/.*?\/(functions\/)/, '$1')}:${line} ${functionName || '(anonymous)'}`;
  };
  const resolve = (id: number): { owner: string; ourFunction?: string; via?: string } => {
    const known = result.get(id);
    if (known) return known;
    const node = byId.get(id);
    let attributed: { owner: string; ourFunction?: string; via?: string };
    if (!node) attributed = { owner: '?' };
    else {
      const own = owner(node.callFrame);
      const parent = parentOf.get(id);
      const pseudo = own.startsWith('(');
      if (!pseudo && !NOT_WORK.test(own) && categoryOf(own) === 'Node and V8, other' && parent !== undefined) {
        const caller = resolve(parent);
        attributed =
          NOT_WORK.test(caller.owner) || caller.owner.startsWith('(')
            ? { owner: own }
            : { ...caller, via: caller.via ?? own };
      } else if (categoryOf(own) === 'ours') {
        attributed = { owner: own, ourFunction: ourFunction(node.callFrame) };
      } else attributed = { owner: own };
    }
    result.set(id, attributed);
    return attributed;
  };
  for (const node of nodes) resolve(node.id);
  return result;
}

/** Where a profile's self time belongs: our code, the AWS SDK, the HTTP client and sockets, or Node and V8. */
export function categoryOf(owner: string): string {
  if (/^(functions|local)\//.test(owner)) return 'ours';
  if (/^@(aws-sdk|smithy|aws-crypto)\//.test(owner)) return 'AWS SDK (serialise, sign, parse)';
  if (owner.startsWith('@aws-lambda-powertools/')) return 'Powertools';
  if (
    /^native: (writev|write\w*String|writeBuffer|writeSync|read\w*)$/.test(owner) ||
    /^node: (net|_http_\w+|streams?|webstreams|deps\/undici|internal\/stream\w*)/.test(owner)
  )
    return 'HTTP and sockets (node:http, fetch, writes)';
  if (owner === '(garbage collector)') return 'garbage collector';
  if (owner.startsWith('bench/')) return 'the bench itself (its call recorder)';
  if (owner.startsWith('node:') || owner.startsWith('native:') || owner.startsWith('(')) return 'Node and V8, other';
  return 'other packages';
}
