/**
 * bench/select (issue 17's speed check), on the generated 1080p30 clip (60 s by default):
 * - `reselect` at a new count that fits the saved candidates (no decode) as a share of the
 *   balanced extract's wall time (target <= 10%);
 * - what the report adds to extract: the time of writing it (thumbnails of the picks, the page)
 *   as a share of the extract, and extract with the report against extract --no-report, both
 *   in the same run, alternating (target <= 5%).
 * Usage: npx tsc -p tsconfig.json && node dist/bench/select.js [--seconds 60] [--runs 2] [--count 40] [--new-count 20]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { clip1080p, fmt, stats } from '../src/bench/common.js';
import { describeMachine } from '../src/bench/machine.js';
import { extractFrames } from '../src/extract.js';
import { writeReport } from '../src/report/report.js';
import { reselect } from '../src/report/reselect.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '2' },
    count: { type: 'string', default: '40' },
    'new-count': { type: 'string', default: '20' },
  },
});
const runs = Number(values.runs);
const count = Number(values.count);
const newCount = Number(values['new-count']);

const clip = clip1080p(Number(values.seconds));
const m = await describeMachine();
console.log(`framesift bench select: ${clip}`);
console.log(`${m.cpu}, ${m.cores} cores, load ${m.loadAverage}; ${runs} alternating runs, count ${count} -> ${newCount}`);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [(performance.now() - started) / 1000, value];
}

const withReport: number[] = [];
const withoutReport: number[] = [];
const reportWrite: number[] = [];
const select: number[] = [];
const selectDecodes: number[] = [];
for (let r = 0; r < runs; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'framesift-bench-select-'));
  const plain = mkdtempSync(join(tmpdir(), 'framesift-bench-select-plain-'));
  try {
    const [tPlain] = await timed(() => extractFrames(clip, { outDir: plain, force: true, count, report: false }));
    const [tExtract] = await timed(() => extractFrames(clip, { outDir: dir, force: true, count }));
    // The report's own share: writing it again (pick thumbnails, data, page) as extract does.
    const [tReport] = await timed(() => writeReport(dir));
    const [tSelect, manifest] = await timed(() => reselect(dir, { count: newCount }));
    withoutReport.push(tPlain);
    withReport.push(tExtract);
    reportWrite.push(tReport);
    select.push(tSelect);
    selectDecodes.push(manifest.timings.describe ?? 0);
    console.log(
      `run ${r + 1}: extract --no-report ${tPlain.toFixed(2)} s, extract ${tExtract.toFixed(2)} s (report ${tReport.toFixed(2)} s), ` +
        `select --count ${newCount} ${tSelect.toFixed(2)} s -> ${manifest.counts.chosen} frames`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(plain, { recursive: true, force: true });
  }
}
const ratio = (a: number[], b: number[]) => stats(a.map((x, i) => x / b[i]!));
console.log(`\nextract (with report)          ${fmt(stats(withReport))}`);
console.log(`extract --no-report            ${fmt(stats(withoutReport))}`);
console.log(`report written (same run)      ${fmt(stats(reportWrite))}`);
console.log(`select --count ${String(newCount).padEnd(16)}${fmt(stats(select))}; describe stage ${JSON.stringify(selectDecodes)} s (0: nothing decoded)`);
console.log(`\nratio select / extract         ${fmt(ratio(select, withReport), 'x')}  (target <= 0.10)`);
console.log(`ratio report / extract         ${fmt(ratio(reportWrite, withReport), 'x')}  (target <= 0.05)`);
console.log(`ratio extract / --no-report    ${fmt(ratio(withReport, withoutReport), 'x')}  (target <= 1.05; includes pass 1's thumbnails and the machine's noise)`);
