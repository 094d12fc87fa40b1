// "Did you mean": the known name an unknown one was probably meant to be. Used for unknown request keys
// (validation.ts) and unknown CLI options (cli/args.ts). No dependencies, so the CLI can use it without zod.

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`qunatity` is one edit). */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current[j] = best;
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length] as number;
}

/**
 * The known name an unknown one was probably meant to be: the same name in another case (PowerShell's `OfferId`),
 * or one edit away (two for names longer than four characters: `quantiy`, `custmer-id`). None when two known names
 * are equally close, or none is close.
 */
export function suggestName(unknown: string, known: Iterable<string>): string | undefined {
  if (unknown.length > 64) return undefined;
  const lower = unknown.toLowerCase();
  const candidates = [...known];
  const sameCase = candidates.filter((name) => name.toLowerCase() === lower);
  if (sameCase.length === 1) return sameCase[0];
  const allowed = lower.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  let tied = false;
  for (const name of candidates) {
    const d = distance(lower, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance, tied] = [name, d, false];
    else if (d === bestDistance) tied = true;
  }
  return best !== undefined && !tied ? best : undefined;
}
