/**
 * bench/batch (issue 14): `framesift batch` with the default jobs against a shell loop of
 * `framesift extract` per clip with the same options, on 24 generated 5 s 720p clips (three
 * SfM-style walks with defects, eight flips/reversals of each), alternating in the same run,
 * without and with a generated ViT-S test model. Peak RSS is the sum over the process tree,
 * sampled every 100 ms. Targets: batch <= 0.7x the loop; batch peak <= jobs x the single
 * extract's peak + 200 MB.
 * Also measures why the workers are processes, not worker threads: what a SIGSEGV in each
 * does to the parent, and the start-up time and memory of one worker of each kind.
 * Usage: npx tsc -p tsconfig.json && nice node dist/bench/batch.js [--runs 1] [--no-model] [--isolation-only] [--prepare]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { packageRoot } from '../bindings/index.js';
import { ffmpegPath, workDir } from '../src/bench/common.js';
import { describeMachine } from '../src/bench/machine.js';
import { defaultJobs } from '../src/jobs/pool.js';
import { makeClip } from '../scripts/make-sample.js';
import { vitSmallSpec, writeTestModel } from '../scripts/make-test-model.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    'no-model': { type: 'boolean', default: false },
    'isolation-only': { type: 'boolean', default: false },
    /** Only generate the clips and the model (slow on a loaded machine), then stop. */
    prepare: { type: 'boolean', default: false },
  },
});
const root = packageRoot();
const bin = join(root, 'bin', 'framesift.js');
const dist = join(root, 'dist', 'src');
const fmt = (x: number, digits: number) => x.toFixed(digits);

/** 24 clips: 3 walks (blur, dark, still + cut) x 8 flips and reversals, cached in bench/.work. */
async function clips(): Promise<string> {
  const dir = join(workDir(), 'batch-clips');
  if (existsSync(dir) && readdirSync(dir).filter((n) => n.endsWith('.mp4')).length === 24) return dir;
  mkdirSync(dir, { recursive: true });
  const bases = [
    { name: 'blur', spec: { blur: [1.5, 2] as [number, number], seed: 101 } },
    { name: 'dark', spec: { dark: [3, 3.5] as [number, number], seed: 202 } },
    { name: 'still', spec: { still: [1, 2] as [number, number], cutAt: 4, seed: 303 } },
  ];
  const variants = ['null', 'hflip', 'vflip', 'hflip,vflip'].flatMap((f) => [f, `${f},reverse`]);
  for (const base of bases) {
    const source = join(workDir(), `batch-base-${base.name}.mp4`);
    if (!existsSync(source)) await makeClip(source, { width: 1280, height: 720, fps: 30, seconds: 5, ...base.spec });
    for (const [k, filter] of variants.entries()) {
      const out = join(dir, `${base.name}-${k}.mp4`);
      if (existsSync(out)) continue;
      const tmp = `${out}.tmp.mp4`;
      execFileSync(ffmpegPath, ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-i', source, '-vf', filter, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', tmp]);
      renameSync(tmp, out);
    }
  }
  return dir;
}

/** Resident memory of a process and all its descendants, bytes (Linux /proc). */
function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

interface Run {
  seconds: number;
  peakMB: number;
  /** Seconds summed over the clips: each pipeline stage (manifest timings), and each job's own run (batch.json; the loop: none). */
  stages: Record<string, number>;
  jobSeconds: number;
  /** CPU seconds (user + sys) of the whole process tree, from /usr/bin/time; NaN without it. */
  cpuSeconds: number;
}

/** GNU time reports the rusage of the command and every descendant it waited for (workers included). */
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Sums each clip's manifest timings under `root` (one folder per clip), and batch.json's job seconds. */
function profileOf(root: string): Pick<Run, 'stages' | 'jobSeconds'> {
  const stages: Record<string, number> = {};
  for (const name of readdirSync(root)) {
    const manifest = join(root, name, 'manifest.json');
    if (!existsSync(manifest)) continue;
    for (const [stage, s] of Object.entries(JSON.parse(readFileSync(manifest, 'utf8')).timings as Record<string, number>)) stages[stage] = (stages[stage] ?? 0) + s;
  }
  const report = join(root, 'batch.json');
  const jobSeconds = existsSync(report) ? (JSON.parse(readFileSync(report, 'utf8')).jobs as Array<{ seconds: number | null }>).reduce((a, j) => a + (j.seconds ?? 0), 0) : 0;
  return { stages, jobSeconds };
}

/** Runs a command to its end, sampling the tree's RSS; then reads the profile of its outputs in `out`. */
function timed(command: string, args: string[], out: string): Promise<Run> {
  const cpuFile = join(mkdtempSync(join(tmpdir(), 'framesift-bench-cpu-')), 'cpu');
  if (gnuTime) [command, args] = [gnuTime, ['-f', '%U %S', '-o', cpuFile, command, ...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 100);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sampler);
      if (code !== 0) reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited with ${code}`));
      else {
        const cpu = gnuTime ? readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) : [NaN, NaN];
        rmSync(join(cpuFile, '..'), { recursive: true, force: true });
        resolve({ seconds: (performance.now() - started) / 1000, peakMB: peak / 2 ** 20, ...profileOf(out), cpuSeconds: cpu[0]! + cpu[1]! });
      }
    });
  });
}

function loop(dir: string, options: string[]): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'framesift-bench-loop-'));
  const script = 'out=$1; shift; for f in "$@"; do node "$BIN" extract "$f" -o "$out/$(basename "$f" .mp4)" --quiet $OPTS || exit 1; done';
  const files = readdirSync(dir).filter((n) => n.endsWith('.mp4')).sort().map((n) => join(dir, n));
  process.env.BIN = bin;
  process.env.OPTS = options.join(' ');
  return timed('bash', ['-c', script, 'loop', out, ...files], out).finally(() => rmSync(out, { recursive: true, force: true }));
}

function batch(dir: string, options: string[]): Promise<Run> {
  const out = join(mkdtempSync(join(tmpdir(), 'framesift-bench-batch-')), 'out');
  return timed(process.execPath, [bin, 'batch', dir, '-o', out, '--quiet', ...options], out).finally(() => rmSync(out, { recursive: true, force: true }));
}

/** Small scripts for the isolation probes, written to a temporary folder. */
function probeScripts(): Record<'thread' | 'process' | 'child' | 'costs' | 'inThread', string> {
  const dir = mkdtempSync(join(tmpdir(), 'framesift-bench-iso-'));
  const extract = JSON.stringify(`file://${dist}/extract.js`);
  const scripts = {
    // The pipeline loaded in a worker thread / a child process, then SIGSEGV raised there:
    // what a segfault in native code does (process.abort() is not available in a worker).
    inThread: `import { parentPort, workerData } from 'node:worker_threads';
      await import(${extract});
      if (workerData === 'abort') process.kill(process.pid, 'SIGSEGV');
      parentPort.postMessage('ready');`,
    child: `await import(${extract}); if (process.argv[2] === 'abort') process.kill(process.pid, 'SIGSEGV'); process.send(process.memoryUsage().rss);`,
    thread: `import { Worker } from 'node:worker_threads';
      const w = new Worker(new URL('./inThread.mjs', import.meta.url), { workerData: 'abort' });
      w.on('error', (e) => console.log('parent alive, worker error ' + e.message));
      w.on('exit', (c) => console.log('parent alive, worker exit ' + c));`,
    process: `import { fork } from 'node:child_process';
      const c = fork(new URL('./child.mjs', import.meta.url), ['abort']);
      c.on('exit', (code, signal) => console.log('parent alive, child ' + (signal ?? code)));`,
    costs: `import { Worker } from 'node:worker_threads';
      import { fork } from 'node:child_process';
      const rss = () => process.memoryUsage().rss;
      const before = rss();
      let t = performance.now();
      const w = new Worker(new URL('./inThread.mjs', import.meta.url));
      await new Promise((r) => w.once('message', r));
      const threadStartMs = performance.now() - t;
      const threadRssMB = (rss() - before) / 2 ** 20;
      await w.terminate();
      t = performance.now();
      const c = fork(new URL('./child.mjs', import.meta.url));
      const childRss = await new Promise((r) => c.once('message', r));
      const processStartMs = performance.now() - t;
      c.kill();
      console.log(JSON.stringify({ threadStartMs, processStartMs, threadRssMB, processRssMB: childRss / 2 ** 20 }));`,
  };
  const paths = {} as Record<keyof typeof scripts, string>;
  for (const [name, text] of Object.entries(scripts)) {
    paths[name as keyof typeof scripts] = join(dir, `${name}.mjs`);
    writeFileSync(paths[name as keyof typeof scripts], text);
  }
  return paths;
}

/**
 * SIGSEGV (what a native crash raises) in a worker thread and in a child process, each
 * after loading the addon: does the parent live on? Plus what one
 * worker of each kind costs to start, with the pipeline loaded.
 */
function isolation(): { thread: string; process: string; threadStartMs: number; processStartMs: number; threadRssMB: number; processRssMB: number } {
  const scripts = probeScripts();
  const probe = (path: string) => {
    try {
      const out = execFileSync(process.execPath, [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30000 });
      return out.trim().split('\n')[0] || 'parent alive';
    } catch (err) {
      const e = err as { signal?: string; status?: number };
      return `parent died (${e.signal ?? `exit ${e.status}`})`;
    }
  };
  const costs = JSON.parse(execFileSync(process.execPath, [scripts.costs], { encoding: 'utf8' }).trim());
  return { thread: probe(scripts.thread), process: probe(scripts.process), ...costs };
}

if (values.prepare) {
  await clips();
  if (!values['no-model']) await writeTestModel(join(workDir(), 'vits12-test.onnx'), vitSmallSpec(12));
  process.exit(0);
}
const m = await describeMachine();
const jobs = defaultJobs();
console.log(`framesift bench batch: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, load ${m.loadAverage}; default jobs ${jobs} x ${Math.max(1, Math.floor(availableParallelism() / jobs))} threads`);
const iso = isolation();
console.log(`isolation: SIGSEGV in a worker thread -> ${iso.thread}; in a child process -> ${iso.process}`);
console.log(`one worker up with the pipeline loaded: thread ${fmt(iso.threadStartMs, 0)} ms +${fmt(iso.threadRssMB, 0)} MB; process ${fmt(iso.processStartMs, 0)} ms ${fmt(iso.processRssMB, 0)} MB`);
if (values['isolation-only']) process.exit(0);

const dir = await clips();
const runs = Number(values.runs);
const configs: Array<{ name: string; options: string[] }> = [{ name: 'no model', options: [] }];
if (!values['no-model']) {
  const model = join(workDir(), 'vits12-test.onnx');
  if (!existsSync(model)) await writeTestModel(model, vitSmallSpec(12));
  configs.push({ name: 'ViT-S test model', options: ['--model', model] });
}
const results: Array<{ name: string; loop: Run[]; batch: Run[] }> = configs.map((c) => ({ name: c.name, loop: [], batch: [] }));
for (let r = 0; r < runs; r++) {
  for (const [i, config] of configs.entries()) {
    results[i]!.loop.push(await loop(dir, config.options));
    console.log(`  ${config.name}: loop ${fmt(results[i]!.loop.at(-1)!.seconds, 1)} s, CPU ${fmt(results[i]!.loop.at(-1)!.cpuSeconds, 1)} s, peak ${fmt(results[i]!.loop.at(-1)!.peakMB, 0)} MB, load ${fmt(loadavg()[0]!, 1)}`);
    results[i]!.batch.push(await batch(dir, config.options));
    console.log(`  ${config.name}: batch ${fmt(results[i]!.batch.at(-1)!.seconds, 1)} s, CPU ${fmt(results[i]!.batch.at(-1)!.cpuSeconds, 1)} s, peak ${fmt(results[i]!.batch.at(-1)!.peakMB, 0)} MB, load ${fmt(loadavg()[0]!, 1)}`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const lines = [
  '| options | loop of extract (s) | batch (s) | batch / loop | loop CPU (s) | batch CPU (s) | cores used loop / batch | single extract peak (MB) | batch peak (MB) | limit jobs x single + 200 (MB) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of results) {
  const loopS = median(r.loop.map((x) => x.seconds));
  const batchS = median(r.batch.map((x) => x.seconds));
  const single = Math.max(...r.loop.map((x) => x.peakMB));
  const peak = Math.max(...r.batch.map((x) => x.peakMB));
  const loopCpu = median(r.loop.map((x) => x.cpuSeconds));
  const batchCpu = median(r.batch.map((x) => x.cpuSeconds));
  // CPU per wall second: how many cores the machine gave each; on a loaded machine both get what the scheduler hands out.
  const cores = `${fmt(loopCpu / loopS, 2)} / ${fmt(batchCpu / batchS, 2)}`;
  lines.push(`| ${r.name} | ${fmt(loopS, 1)} | ${fmt(batchS, 1)} | ${fmt(batchS / loopS, 2)}x | ${fmt(loopCpu, 1)} | ${fmt(batchCpu, 1)} | ${cores} | ${fmt(single, 0)} | ${fmt(peak, 0)} | ${fmt(jobs * single + 200, 0)} |`);
}
// Where the time goes, per clip (medians of the runs): the stages inside extract, what a job
// spends outside them (in a worker: report, saved analysis, the model's first load), and what
// the loop pays per clip beyond that (two Node start-ups and a model load per process).
const stageNames = ['measure', 'candidates', 'describe', 'select', 'tracks', 'write'];
const clipCount = readdirSync(dir).filter((n) => n.endsWith('.mp4')).length;
const perClip = (runs: Run[], f: (r: Run) => number) => median(runs.map(f)) / clipCount;
const sumStages = (r: Run) => stageNames.reduce((a, k) => a + (r.stages[k] ?? 0), 0);
lines.push('', `| per clip (s, medians) | ${stageNames.join(' | ')} | stages | job outside stages | loop: process outside stages |`, `| --- |${' ---: |'.repeat(stageNames.length + 3)}`);
for (const r of results) {
  for (const [kind, runsOf] of [['loop', r.loop], ['batch', r.batch]] as const) {
    const cells = stageNames.map((k) => fmt(perClip(runsOf, (x) => x.stages[k] ?? 0), 2));
    const outside = kind === 'batch' ? fmt(perClip(runsOf, (x) => x.jobSeconds - sumStages(x)), 2) : '-';
    const processOutside = kind === 'loop' ? fmt(perClip(runsOf, (x) => x.seconds - sumStages(x)), 2) : '-';
    lines.push(`| ${r.name}, ${kind} | ${cells.join(' | ')} | ${fmt(perClip(runsOf, sumStages), 2)} | ${outside} | ${processOutside} |`);
  }
}
console.log(lines.join('\n'));
writeFileSync(join(workDir(), 'batch-results.md'), lines.join('\n') + '\n');
