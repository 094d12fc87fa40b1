// functions/shared imports downward only: the purchase model at the bottom, entry points at the top. A circle (type
// imports included: they show the layering too) means two modules each need the other, and is refused here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = 'functions/shared';

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importCircles(): string[][] {
  const files = modules(ROOT);
  const graph = new Map(files.map((file) => [file, [] as string[]]));
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\b[^;'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = normalize(join(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts')));
      if (graph.has(target) && target !== file) graph.get(file)?.push(target);
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[][] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next, path);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, []);
  return circles.map((circle) => circle.map((file) => relative(ROOT, file)));
}

describe('functions/shared layering', () => {
  it('has no import circle', () => {
    expect(importCircles()).toEqual([]);
  });
});
