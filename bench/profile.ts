// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top frames by self time, and by inclusive time for
// frames whose URL matches a filter. `tsx bench/profile.ts FILE.cpuprofile [filter] [count]`.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, filter, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile.ts FILE.cpuprofile [filter] [count]');
  console.log(summarise(file, filter ?? '', Number(count ?? 25)));
}
