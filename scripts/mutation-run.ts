/**
 * The mutation run of issue 13 (docs/hardening.md): mutated copies of the seed corpus
 * (scripts/make-fuzz-corpus.sh: tiny clips in mp4/mkv/webm/avi/ts/mov, H.264/HEVC 10-bit/VP9/
 * MPEG-4/MJPEG, JPEG/PNG) through the CLI: `probe --decode` for every input, each in its own
 * process for the first --cli-probe inputs, and `extract --count 3` in CLI processes for the
 * first --cli-extract; every other input goes through the same CLI entry (main(), argument
 * parsing to exit status) in persistent runner processes, since start-up (seconds on a loaded
 * machine) would otherwise dominate. Every outcome is classified: ok, a coded error
 * (`[ERR_FRAMESIFT_*]`), or a finding: a crash (signal, runner death), a hang (timeout), an
 * uncoded error (a stack trace) or an unexpected exit status.
 *
 *   npm run build:ts && nice node dist/scripts/mutation-run.js --inputs 2000 --jobs 2 --cli-probe 400 --cli-extract 100
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { seededRandom } from './prng.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const bin = join(root, 'bin', 'framesift.js');

type Outcome = 'ok' | 'coded' | 'crash' | 'hang' | 'uncoded' | 'status';
interface Result {
  input: string;
  mutation: string;
  outcome: Outcome;
  code?: string;
  detail?: string;
  ms: number;
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

// ---- mutations ----

type Mutator = (data: Buffer, rnd: () => number) => Buffer;
const int = (rnd: () => number, n: number) => Math.floor(rnd() * n);
const MUTATORS: Record<string, Mutator> = {
  bitflips: (d, rnd) => {
    const out = Buffer.from(d);
    for (let k = 1 + int(rnd, 16); k > 0; k--) {
      const at = int(rnd, out.length);
      out[at]! ^= 1 << int(rnd, 8);
    }
    return out;
  },
  truncation: (d, rnd) => d.subarray(0, int(rnd, d.length)),
  byteRun: (d, rnd) => {
    const out = Buffer.from(d);
    const len = 1 + int(rnd, 256);
    const at = int(rnd, out.length);
    out.fill([0x00, 0xff, 0x7f, int(rnd, 256)][int(rnd, 4)]!, at, Math.min(out.length, at + len));
    return out;
  },
  chunkCopy: (d, rnd) => {
    const len = 1 + int(rnd, Math.min(4096, d.length));
    const from = int(rnd, d.length - len + 1);
    const to = int(rnd, d.length);
    const chunk = d.subarray(from, from + len);
    // Half overwrite in place, half insert (the file grows; offsets in the index go stale).
    if (rnd() < 0.5) {
      const out = Buffer.from(d);
      chunk.copy(out, to);
      return out;
    }
    return Buffer.concat([d.subarray(0, to), chunk, d.subarray(to)]);
  },
  headerSmash: (d, rnd) => {
    const out = Buffer.from(d);
    const end = Math.min(out.length, 16 + int(rnd, 512));
    for (let k = 0; k < 1 + int(rnd, 24); k++) {
      const at = int(rnd, end);
      // Sizes and counts are the fields a parser trusts: large values, zeros, random bytes.
      out[at] = [0xff, 0x00, 0x7f, 0x80, int(rnd, 256)][int(rnd, 5)]!;
    }
    return out;
  },
};

function makeInputs(count: number, seed: number, dir: string): Array<{ path: string; mutation: string }> {
  const corpus = join(root, 'test', '.fixtures', 'fuzz-corpus');
  execFileSync('bash', [join(root, 'scripts', 'make-fuzz-corpus.sh'), corpus], { stdio: 'inherit' });
  const seeds = ['video', 'images'].flatMap((d) => readdirSync(join(corpus, d)).map((f) => join(corpus, d, f)));
  const names = Object.keys(MUTATORS);
  const rnd = seededRandom(seed);
  mkdirSync(dir, { recursive: true });
  const inputs: Array<{ path: string; mutation: string }> = [];
  for (let i = 0; i < count; i++) {
    const source = seeds[i % seeds.length]!;
    const mutation = names[int(rnd, names.length)]!;
    let data = MUTATORS[mutation]!(readFileSync(source), rnd);
    // Some inputs get a second mutation of another kind: damage rarely comes alone.
    if (rnd() < 0.3) data = MUTATORS[names[int(rnd, names.length)]!]!(data.length > 0 ? data : readFileSync(source), rnd);
    const path = join(dir, `m${String(i).padStart(5, '0')}-${basename(source, extname(source))}-${mutation}${extname(source)}`);
    writeFileSync(path, data);
    inputs.push({ path, mutation });
  }
  return inputs;
}

// ---- classification ----

function classify(status: number | null, signal: string | null, stderr: string, timedOut: boolean): Pick<Result, 'outcome' | 'code' | 'detail'> {
  if (timedOut) return { outcome: 'hang' };
  if (signal) return { outcome: 'crash', detail: signal };
  if (status === 0) return { outcome: 'ok' };
  const code = /\[(ERR_FRAMESIFT_[A-Z_]+)\]/.exec(stderr)?.[1];
  if (status === 1 && code) return { outcome: 'coded', code };
  if (status === 1 && /^framesift: Expected /m.test(stderr)) return { outcome: 'coded', code: 'ERR_FRAMESIFT_INVALID_ARG' };
  if (status === 1) return { outcome: 'uncoded', detail: stderr.slice(-400) };
  return { outcome: 'status', detail: `exit ${status}: ${stderr.slice(-300)}` };
}

function runCli(args: string[], timeoutMs: number): Promise<{ status: number | null; signal: string | null; stderr: string; timedOut: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    // MALLOC_ARENA_MAX set: the launcher does the work itself, so a crash shows as this process's signal.
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, MALLOC_ARENA_MAX: '2' }, stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid) setPriority(child.pid, 10);
    let stderr = '';
    let timedOut = false;
    child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal: timedOut ? null : signal, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

async function pool<T>(items: T[], jobs: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  }));
}

// ---- the persistent runner: extract through main() for many inputs ----

async function runner(): Promise<void> {
  const { main } = await import('../src/cli/index.js');
  process.on('message', async (message: { args: string[]; out?: string }) => {
    let stderr = '';
    const started = Date.now();
    let status: number;
    try {
      status = await main(message.args, { stdout: () => undefined, stderr: (t: string) => void (stderr += t) });
    } catch (err) {
      status = 99;
      stderr += `uncaught: ${(err as Error).stack}`;
    }
    if (message.out) rmSync(message.out, { recursive: true, force: true });
    process.send!({ status, stderr, ms: Date.now() - started });
  });
  process.send!({ ready: true });
}

function startRunner(): Promise<ChildProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['--runner'], { env: { ...process.env, MALLOC_ARENA_MAX: '2' }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  if (child.pid) setPriority(child.pid, 10);
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}

async function viaRunner(
  command: 'probe' | 'extract',
  inputs: Array<{ path: string; mutation: string }>,
  work: string,
  timeoutMs: number,
  record: (r: Result) => void,
): Promise<void> {
  let child = await startRunner();
  for (const input of inputs) {
    const out = join(work, `x-${basename(input.path)}`);
    const args = command === 'probe' ? ['probe', input.path, '--decode', '--json'] : ['extract', input.path, '-o', out, '--count', '3', '--quiet'];
    const started = Date.now();
    const reply = await new Promise<{ status: number; stderr: string; ms: number } | 'crash' | 'hang'>((resolve) => {
      const timer = setTimeout(() => resolve('hang'), timeoutMs);
      const onExit = () => {
        clearTimeout(timer);
        resolve('crash');
      };
      child.once('exit', onExit);
      child.once('message', (m: { status: number; stderr: string; ms: number }) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m);
      });
      child.send({ args, ...(command === 'extract' ? { out } : {}) });
    });
    if (reply === 'crash' || reply === 'hang') {
      record({ input: input.path, mutation: input.mutation, outcome: reply, detail: `runner ${reply} (${command} in-process)`, ms: Date.now() - started });
      child.kill('SIGKILL');
      rmSync(out, { recursive: true, force: true });
      child = await startRunner();
      continue;
    }
    record({ input: input.path, mutation: input.mutation, ...classify(reply.status === 99 ? 1 : reply.status, null, reply.stderr.includes('uncaught:') ? reply.stderr.replace(/\[ERR_FRAMESIFT_[A-Z_]+\]/g, '') : reply.stderr, false), ms: reply.ms });
  }
  child.kill();
}

// ---- main ----

function summarise(label: string, results: Result[]): Record<string, unknown> {
  const by = (f: (r: Result) => string | undefined) => results.reduce<Record<string, number>>((acc, r) => {
    const k = f(r);
    if (k) acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const summary = { label, inputs: results.length, outcomes: by((r) => r.outcome), codes: by((r) => r.code), medianMs: ms[Math.floor(ms.length / 2)] ?? 0, maxMs: ms.at(-1) ?? 0 };
  console.log(JSON.stringify(summary));
  return summary;
}

async function run(): Promise<void> {
  const count = arg('inputs', 2000);
  const jobs = arg('jobs', 2);
  const cliProbe = arg('cli-probe', 400);
  const cliExtract = arg('cli-extract', 100);
  const seed = arg('seed', 13);
  const work = mkdtempSync(join(tmpdir(), 'framesift-mutation-'));
  const started = Date.now();
  const inputs = makeInputs(count, seed, join(work, 'inputs'));
  console.log(`mutation run: ${inputs.length} inputs (seed ${seed}) in ${work}, ${jobs} jobs`);
  const probes: Result[] = [];
  const extracts: Result[] = [];
  const findings: Result[] = [];
  const note = (list: Result[]) => (r: Result) => {
    list.push(r);
    if (!['ok', 'coded'].includes(r.outcome)) {
      findings.push(r);
      console.log(`FINDING ${r.outcome}: ${r.input} ${r.detail ?? ''}`);
    }
  };
  // In CLI processes: the first --cli-probe / --cli-extract inputs (start-up costs seconds on
  // a loaded machine); the rest through the same main() in persistent runners.
  const split = <T,>(list: T[]) => {
    const part = Math.ceil(list.length / jobs);
    return Array.from({ length: jobs }, (_, j) => list.slice(j * part, (j + 1) * part));
  };
  await pool(inputs.slice(0, cliProbe), jobs, async (input) => {
    const r = await runCli(['probe', input.path, '--decode', '--json'], 60_000);
    note(probes)({ input: input.path, mutation: input.mutation, ...classify(r.status, r.signal, r.stderr, r.timedOut), ms: r.ms });
  });
  const probeCli = summarise('probe --decode (CLI process each)', probes);
  const probeRunner: Result[] = [];
  await Promise.all(split(inputs.slice(cliProbe)).map((part) => viaRunner('probe', part, work, 60_000, note(probeRunner))));
  summarise('probe --decode (main() in persistent runners)', probeRunner);
  probes.push(...probeRunner);
  const probeSummary = summarise('probe --decode (all)', probes);
  const cliResults: Result[] = [];
  await pool(inputs.slice(0, cliExtract), jobs, async (input, i) => {
    const out = join(work, `cli${i}`);
    const r = await runCli(['extract', input.path, '-o', out, '--count', '3', '--quiet'], 120_000);
    rmSync(out, { recursive: true, force: true });
    note(cliResults)({ input: input.path, mutation: input.mutation, ...classify(r.status, r.signal, r.stderr, r.timedOut), ms: r.ms });
  });
  extracts.push(...cliResults);
  const cliSummary = summarise('extract --count 3 (CLI process each)', cliResults);
  const runnerResults: Result[] = [];
  await Promise.all(split(inputs.slice(cliExtract)).map((part) => viaRunner('extract', part, work, 120_000, note(runnerResults))));
  extracts.push(...runnerResults);
  const runnerSummary = summarise('extract --count 3 (main() in persistent runners)', runnerResults);
  const extractSummary = summarise('extract --count 3 (all)', extracts);
  const report = { seed, inputs: inputs.length, wallSec: Math.round((Date.now() - started) / 1000), probeCli, probe: probeSummary, extractCli: cliSummary, extractRunner: runnerSummary, extract: extractSummary, findings };
  const reportPath = join(root, 'bench', '.work', 'mutation-run.json');
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, JSON.stringify(report, null, 2));
  console.log(`mutation run: ${findings.length} findings in ${report.wallSec} s; report ${reportPath}`);
  // Findings keep their inputs; the rest goes.
  for (const f of findings) writeFileSync(join(dirname(reportPath), basename(f.input)), readFileSync(f.input));
  rmSync(work, { recursive: true, force: true });
  process.exitCode = findings.length > 0 ? 1 : 0;
}

if (process.argv.includes('--runner')) await runner();
else await run();
