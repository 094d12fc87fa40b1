// Writes the curl examples of `local/examples.ts` into the README (between the examples markers), as `npm start`
// prints them. `npm run docs` runs it; a test fails when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { examples } from '../local/examples.js';

export const README = new URL('../README.md', import.meta.url);
export const LOCAL_BASE_URL = 'http://127.0.0.1:3000';

export function renderExamples(base = LOCAL_BASE_URL): string {
  const body = examples.map((e) => `# ${e.title}\n${e.command(base)}`).join('\n\n');
  return `<!-- examples:start -->\n\`\`\`sh\n${body}\n\`\`\`\n<!-- examples:end -->`;
}

export function withExamples(readme: string): string {
  return readme.replace(/<!-- examples:start -->[\s\S]*<!-- examples:end -->/, renderExamples());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(README, withExamples(readFileSync(README, 'utf8')));
}
