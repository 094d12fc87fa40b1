// The README and docs/ as a newcomer uses them: the README stays short, every relative link and anchor resolves, and
// every shell example outside the generated block (which readme-examples.test.ts runs) works as pasted against the
// local server. Examples that need AWS (aws, awscurl, cdk) are not run.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/logs.js';
import { AS_NPM_START, type Stack, startStack } from '../support/stack.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join('docs', f));
const PAGES = ['README.md', ...DOCS, 'local/simulator/README.md'];
const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');
const withoutGenerated = (text: string) => text.replace(/<!-- examples:start -->[\s\S]*<!-- examples:end -->/, '');
const LOCAL = 'http://127.0.0.1:3000';

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
const anchors = (text: string) =>
  new Set(
    text
      .replace(/```[\s\S]*?```/g, '')
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ''))),
  );

/** Shell blocks that run against `npm start` alone (no AWS account, no placeholders to fill in). */
function localShellBlocks(page: string): string[] {
  const blocks = [...withoutGenerated(read(page)).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.filter((b) => !/^\s*(aws|awscurl|npx cdk|npm|cat|PARTNER_CENTER_URL=)\b/m.test(b));
}

describe('README and docs/', () => {
  it('the README stays a ten-minute read (at most 250 lines) and links every docs/ page', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const page of DOCS) expect(readme, page).toContain(`](${page}`);
  });

  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    const text = read(page);
    const links = [...text.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
    for (const link of links.filter((l) => !/^[a-z]+:/.test(l))) {
      const [file, anchor] = link.split('#');
      const target = file ? resolve(dirname(join(ROOT, page)), file) : join(ROOT, page);
      expect(existsSync(target), `${page}: ${link}`).toBe(true);
      if (anchor && target.endsWith('.md')) {
        expect([...anchors(readFileSync(target, 'utf8'))], `${page}: ${link} in ${relative(ROOT, target)}`).toContain(
          anchor,
        );
      }
    }
  });

  it.each(PAGES)('%s: shell examples have no placeholder to fill in (… or <…>) unless they need AWS', (page) => {
    for (const block of localShellBlocks(page)) expect(block).not.toMatch(/…|<[a-z][^>]*>/i);
  });

  describe('shell examples work as pasted against the local server', () => {
    captureLogs(); // the server's log lines are not the test's output
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack(AS_NPM_START); // dynalite behind the idempotency store, the catalog pre-flight on
    });
    afterAll(() => stack.stop());

    // 180 s per block: one block starts `npx partner-orders` a dozen times (each a Node start, seconds apiece on a
    // busy machine) and waits for an order to be provisioned.
    const cases = PAGES.flatMap((page) => localShellBlocks(page).map((block, i) => [`${page} #${i + 1}`, block]));
    it.each(cases)(
      '%s',
      async (_, block) => {
        const script = `set -euo pipefail\n${block.replaceAll(LOCAL, stack.url)}`;
        const { stdout } = await run('bash', ['-c', script], {
          env: { ...process.env, PARTNER_ORDERS_ENDPOINT: stack.url },
          cwd: ROOT,
        });
        // Each command prints one JSON answer; none of them may be a problem.
        const answers = stdout.split(/\n(?=[{[])/).filter((s) => s.trim());
        expect(answers.length).toBeGreaterThan(0);
        for (const answer of answers) expect(JSON.parse(answer).type, answer).toBeUndefined();
      },
      180_000,
    );
  });
});
