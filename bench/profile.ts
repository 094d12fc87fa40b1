// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top frames by self time, and by inclusive time for
// frames whose URL matches a filter. `tsx bench/profile.ts FILE.cpuprofile [filter] [count]`.
// `tsx bench/profile.ts --owners FILE.cpuprofile [requests] [skip seconds]`: the busy time by whose code it is (a
// package, a folder of ours, cedar-wasm's WebAssembly), Node's own frames counted to the nearest caller that is
// someone's (a socket write for the AWS SDK is the SDK's); with the number of requests served, in ms per request.
// Skipping the first seconds leaves start-up (tsx compiling the sources) out.
import { readFileSync } from 'node:fs';
import { attributeNodes } from './attribution.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarise(file: string, filter = '', count = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = profile.samples.length;
  const label = (n: Node) => {
    const url = n.callFrame.url
      .replace(/^file:\/\//, '')
      .replace(/.*\/node_modules\//, '~/')
      .replace(/.*\/main\//, '');
    return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
    }
  }
  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)} %`;
  const top = (map: Map<string, number>, keep: (l: string) => boolean) =>
    [...map]
      .filter(([l]) => keep(l))
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([l, v]) => `${pct(v)}  ${l}`)
      .join('\n');
  return [
    `${total} samples, ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`,
    '\nself time:',
    top(self, () => true),
    `\ninclusive time${filter ? ` (${filter})` : ''}:`,
    top(inclusive, (l) => l.includes(filter)),
  ].join('\n');
}

/** Whose code a frame is: undefined for Node's and V8's own frames (counted to their caller). */
function ownerOf(url: string): string | undefined {
  if (url.startsWith('wasm://')) return 'cedar-wasm (WebAssembly)';
  if (url.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (!url.startsWith('file://')) return undefined;
  const path = url.slice('file://'.length);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1];
  const parts = path.slice(path.indexOf(ROOT_DIR) === 0 ? ROOT_DIR.length : 0).split('/');
  // functions/shared/<capability>, local/simulator, local/<file>, bench/<file>.
  const depth = parts[0] === 'functions' && parts[1] === 'shared' ? 3 : 2;
  return parts.slice(0, Math.min(parts.length, depth)).join('/').replace(/\.ts$/, '');
}

const ROOT_DIR = new URL('../', import.meta.url).pathname;

/**
 * Busy time (ms) by owner, after `skipSeconds`. Node's and V8's frames go to their nearest owned caller
 * (attribution.ts, with this file's owners: every Node frame, sockets included, counts for whoever asked for it), or
 * stay Node's.
 */
export function byOwner(file: string, skipSeconds = 0): { busyMs: number; owners: Map<string, number> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const attributed = attributeNodes(profile, ({ url, functionName }) => {
    const owned = ownerOf(url);
    if (owned !== undefined) return owned;
    return functionName.startsWith('(') ? functionName : `node: ${functionName || '(anonymous)'}`;
  });
  const owners = new Map<string, number>();
  let at = 0;
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const name = attributed.get(id)?.owner ?? '?';
    if (at < skipSeconds * 1e6 || name === '(idle)') return;
    owners.set(name, (owners.get(name) ?? 0) + delta / 1000);
    busyMs += delta / 1000;
  });
  return { busyMs, owners };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--owners') {
  const [file, requests, skip] = process.argv.slice(3);
  if (!file) throw new Error('usage: tsx bench/profile.ts --owners FILE.cpuprofile [requests] [skip seconds]');
  const { busyMs, owners } = byOwner(file, Number(skip ?? 0));
  const perRequest = requests ? Number(requests) : undefined;
  console.log(
    `busy ${busyMs.toFixed(0)} ms${perRequest ? `, ${(busyMs / perRequest).toFixed(3)} ms per request` : ''} (idle left out)`,
  );
  for (const [name, ms] of [...owners].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= busyMs / 200)) {
    const each = perRequest ? `${(ms / perRequest).toFixed(3)} ms  ` : '';
    console.log(`${((100 * ms) / busyMs).toFixed(1).padStart(5)} %  ${each}${name}`);
  }
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, filter, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile.ts FILE.cpuprofile [filter] [count]');
  console.log(summarise(file, filter ?? '', Number(count ?? 25)));
}
