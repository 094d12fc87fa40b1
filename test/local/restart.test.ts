// `npm start` as a person runs it: its state (idempotency records in dynalite on disk, the simulator's orders) survives
// a restart, and SIGTERM to npm's own pid (what `kill <pid>` does), SIGINT (Ctrl-C) or even SIGKILL to npm stops
// everything: nothing is left answering on the port.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type NpmStart, npmStart as startLocalServer } from '../support/npm-start.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const state = mkdtempSync(join(tmpdir(), 'partner-orders-state-'));
const started: ChildProcess[] = [];

/** `npm start` on a free port with this state folder; resolves with its address once it listens. */
async function npmStart(): Promise<NpmStart> {
  const server = await startLocalServer({ state, env: process.env, listenTimeoutMs: 60_000 });
  started.push(server.child);
  return server;
}

/** True once nothing accepts connections at the address (polled: the process needs a moment to go). */
async function refused(url: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${url}/health/credentials`, { signal: AbortSignal.timeout(1_000) });
    } catch (error) {
      if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return true;
    }
    await sleep(100);
  }
  return false;
}

const order = (url: string, key: string) =>
  fetch(`${url}/customers/${CUSTOMER}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({
      lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 9, termDuration: 'P1Y' }],
      billingCycle: 'monthly',
    }),
  });

describe('npm start: state across a restart, and a clean stop', () => {
  afterAll(() => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(state, { recursive: true, force: true });
  });

  it('keeps keys and orders across a restart; SIGTERM to npm and SIGINT leave nothing answering', async () => {
    const first = await npmStart();
    const placed = await order(first.url, 'restart-0001');
    expect(placed.status).toBe(201);
    const { id } = (await placed.json()) as { id: string };

    // `kill <npm pid>`: npm passes SIGTERM on, and the server (node itself, no tsx child) stops.
    first.child.kill('SIGTERM');
    await first.exited;
    expect(await refused(first.url)).toBe(true);

    const second = await npmStart();
    const replay = await order(second.url, 'restart-0001');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as { id: string }).id).toBe(id);
    // The simulator kept the order: it is read by id and listed.
    const read = await fetch(`${second.url}/customers/${CUSTOMER}/orders/${id}`);
    expect(read.status).toBe(200);
    const list = (await (await fetch(`${second.url}/customers/${CUSTOMER}/orders`)).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((o) => o.id)).toContain(id);
    // The same lines under a new key: the recent purchase survived too.
    expect((await order(second.url, 'restart-0002')).status).toBe(409);

    second.child.kill('SIGINT');
    await second.exited;
    expect(await refused(second.url)).toBe(true);

    // npm killed outright (nothing forwarded): the server notices its parent is gone and stops too.
    const third = await npmStart();
    third.child.kill('SIGKILL');
    await third.exited;
    expect(await refused(third.url)).toBe(true);
  }, 180_000);
});
