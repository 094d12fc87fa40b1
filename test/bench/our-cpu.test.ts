// How `npm run bench:breakdown` tells our CPU from the rest (issue 22's "our CPU per purchase"): Node's and V8's work
// is its caller's, so JSON, zlib and crypto asked for by our code count as ours, and the same work asked for by the
// SDK is the SDK's; the HTTP client and sockets stay the HTTP client's; GC and the event loop stay Node's.
import { describe, expect, it } from 'vitest';
import { attributeNodes, categoryOf } from '../../bench/attribution.js';
import { type CpuProfile, frameOwner } from '../../bench/cold.js';

const frame = (url: string, functionName = '') => ({ url, functionName, lineNumber: 0, columnNumber: 0 });
const node = (id: number, callFrame: ReturnType<typeof frame>, children: number[] = []) => ({
  id,
  callFrame,
  children,
});

const PROFILE: CpuProfile = {
  nodes: [
    node(1, frame('', '(root)'), [2, 8, 9, 11, 12]),
    node(2, frame('file:///w/bench/breakdown.ts', 'measure'), [3]),
    node(3, frame('file:///w/functions/shared/exactly-once/records.ts', 'encodeCart'), [4, 6, 10]),
    node(4, frame('node:zlib', 'gzipSync'), [5]),
    node(5, frame('', 'zlibBufferSync')),
    node(6, frame('file:///w/node_modules/@smithy/signature-v4/dist-cjs/index.js', 'sign'), [7]),
    node(7, frame('node:internal/crypto/hash', 'digest')),
    node(8, frame('', '(garbage collector)')),
    node(9, frame('node:internal/timers', 'processTimers')),
    node(10, frame('node:_http_client', 'ClientRequest')),
    node(11, frame('', '(idle)')),
    node(12, frame('node:inspector', 'post')),
  ],
  samples: [],
  timeDeltas: [],
};

describe('bench:breakdown counts Node’s work as its caller’s', () => {
  const whose = attributeNodes(PROFILE, ({ url, functionName }) => frameOwner(url, functionName));
  const owner = (id: number) => whose.get(id)?.owner ?? '?';

  it('zlib (and the native work under it) asked for by our code is ours, named by our function', () => {
    for (const id of [3, 4, 5]) expect(categoryOf(owner(id))).toBe('ours');
    expect(whose.get(4)?.via).toBe('node: zlib');
    expect(whose.get(5)?.via).toBe('node: zlib');
    expect(whose.get(3)?.via).toBeUndefined();
    expect(whose.get(5)?.ourFunction).toMatch(/^functions\/shared\/exactly-once\/records\.ts:\d+ encodeCart$/);
  });

  it('crypto asked for by the SDK is the SDK’s; the HTTP client stays the HTTP client’s even under our code', () => {
    expect(owner(7)).toBe('@smithy/signature-v4');
    expect(categoryOf(owner(7))).toMatch(/^AWS SDK/);
    expect(categoryOf(owner(10))).toMatch(/^HTTP and sockets/);
  });

  it('work with no caller of ours or a package’s (GC, timers, idle, the profiler) is not ours', () => {
    expect(owner(8)).toBe('(garbage collector)');
    expect(owner(9)).toBe('node: timers');
    expect(owner(11)).toBe('(idle)');
    expect(owner(12)).toBe('node: inspector');
    expect(categoryOf(owner(2))).toMatch(/^the bench itself/);
  });
});
