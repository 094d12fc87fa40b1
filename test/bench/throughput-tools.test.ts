// The local throughput bench's profile reading (`tsx bench/profile.ts --owners`): busy time by whose code it is, Node's
// own frames counted to their nearest caller that is someone's, idle and start-up left out.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { byOwner } from '../../bench/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'throughput-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROOT = new URL('../../', import.meta.url).pathname;
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 },
  hitCount: 0,
  children,
});

describe('bench/profile --owners', () => {
  it('names packages, our folders and WebAssembly; Node frames go to their caller; idle and start-up are left out', () => {
    const profile = {
      nodes: [
        frame(1, '(root)', '', [2, 3, 6, 8, 9]),
        frame(2, 'send', `file://${ROOT}node_modules/@smithy/core/dist-cjs/index.js`, [4]),
        frame(3, 'createCart', `file://${ROOT}local/simulator/carts.ts`),
        frame(4, 'writev', '', []),
        frame(5, 'unused', '', []),
        frame(6, 'authorize', `file://${ROOT}functions/shared/policy/local.ts`, [7]),
        frame(7, 'wasm-function[1]', 'wasm://wasm/01'),
        frame(8, '(idle)', ''),
        frame(9, 'runMicrotasks', ''),
      ],
      // One sample each, 1 ms apart; the first (at 1 ms) falls in the skipped start-up.
      samples: [3, 4, 2, 3, 7, 8, 9, 6],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
      startTime: 0,
      endTime: 8000,
    };
    const file = join(dir, 'p.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const { busyMs, owners } = byOwner(file, 0.0015);
    expect(Object.fromEntries(owners)).toEqual({
      '@smithy/core': 2,
      'local/simulator': 1,
      'cedar-wasm (WebAssembly)': 1,
      'node: runMicrotasks': 1,
      'functions/shared/policy': 1,
    });
    expect(busyMs).toBe(6);
  });
});
