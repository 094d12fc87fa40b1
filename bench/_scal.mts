import { measureScaling, startWarmBench } from '/work/main/bench/warm.ts';
const bench = await startWarmBench();
for (let r = 0; r < 2; r++) {
  const s = await measureScaling(bench, 2500, [1, 10, 25, 50, 75, 100]);
  console.log(s.rows.map((x) => `${x.lines}:${x.overheadP50Us}`).join('  '), '|', s.segments.map((x) => `${x.from}→${x.to}:${x.usPerLine}`).join(' '));
}
await bench.stop();
