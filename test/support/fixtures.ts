import { readFileSync } from 'node:fs';

export const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/partner-center/${name}.json`, import.meta.url), 'utf8'));
