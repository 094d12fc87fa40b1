// `npm start` as a person runs it, in a child process: on a free port, its state in the given folder. Resolves with its
// address once it says it listens; rejects with what it printed if it exits or does not listen in time.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface NpmStart {
  child: ChildProcess;
  url: string;
  /** The exit code once the process has gone (null when a signal ended it). */
  exited: Promise<number | null>;
}

export async function npmStart(options: {
  state: string;
  env: NodeJS.ProcessEnv;
  listenTimeoutMs?: number;
}): Promise<NpmStart> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: {
      ...options.env,
      PORT: '0',
      LOCAL_STATE_DIR: options.state,
      SIMULATOR_PROVISIONING_SECONDS: '0',
      LOG_LEVEL: 'SILENT',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not listen: ${output}`)),
      options.listenTimeoutMs ?? 90_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s,]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', () => reject(new Error(`npm start exited: ${output}`)));
  });
  return { child, url, exited };
}
