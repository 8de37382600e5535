/**
 * framesift batch: real SQLite store, real worker processes, generated clips. Each test has
 * its own batch folder; clips are generated once into test/.fixtures/batch/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/index.js';
import { isFramesiftError } from '../src/errors.js';
import { extractBatch, type BatchEvent, type BatchSummary } from '../src/jobs/batch.js';
import { TEST_MODELS, writeTestModel, type TestModelSpec } from '../scripts/make-test-model.js';
import { fingerprintInput } from '../src/jobs/fingerprint.js';
import { extractFrames } from '../src/extract.js';
import { loadAnalysis } from '../src/report/saved-analysis.js';
import type { JobRow } from '../src/jobs/store.js';
import { fixturesDir } from './helpers/fixtures.js';

const clipDir = join(fixturesDir, 'batch');
/** Seconds of each generated clip (320x180, 15 fps); b/clip.mp4 holds a still part. */
const CLIPS: Record<string, { seconds: number; still?: [number, number]; seed: number }> = {
  'a/clip.mp4': { seconds: 3, seed: 1 },
  'b/clip.mp4': { seconds: 5, still: [1, 3], seed: 2 },
  'long.mp4': { seconds: 8, seed: 3 },
  'short.mp4': { seconds: 2, seed: 4 },
};

beforeAll(async () => {
  const { makeClip } = await import('../scripts/make-sample.js');
  for (const [name, spec] of Object.entries(CLIPS)) {
    const path = join(clipDir, name);
    if (existsSync(path)) continue;
    const tmp = join(clipDir, `.tmp-${process.pid}-${name.replace('/', '_')}`);
    await makeClip(tmp, { width: 320, height: 180, fps: 15, ...spec });
    mkdirSync(join(path, '..'), { recursive: true });
    renameSync(tmp, path);
  }
}, 120_000);

/** A fresh copy of the clips (tests change inputs) plus a corrupt one. */
function archive(): string {
  const root = mkdtempSync(join(tmpdir(), 'framesift-batch-in-'));
  cpSync(clipDir, root, { recursive: true, filter: (src) => !src.includes('.tmp-') });
  return root;
}

function corruptCopy(from: string, to: string): void {
  const data = Buffer.from(readFileSync(from));
  data.fill(0x5a, 0, 4096); // the container header is gone: it cannot be opened
  writeFileSync(to, data);
}

function rows(dir: string): JobRow[] {
  const db = new Database(join(dir, 'batch.sqlite'), { readonly: true });
  try {
    return db
      .prepare('SELECT id, input, rel_name AS relName, out_dir AS outDir, state, attempts, crashes, error_code AS errorCode, worker_pid AS workerPid, frames, need, share FROM jobs ORDER BY id')
      .all() as JobRow[];
  } finally {
    db.close();
  }
}

function manifestOf(outDir: string): { createdAt: string; counts: { chosen: number }; frames: Array<{ file: string }> } {
  return JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
}

/** Every file below dir (relative paths). */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** A folder's files and folders, numbers in names as N, each once: what extract's layout is. */
function layout(dir: string): string[] {
  return [...new Set(walk(dir).map((f) => f.replace(/\d+/g, 'N')))].sort();
}

/** A done job's folder is complete: its images are exactly the manifest's, nothing temporary anywhere. */
function expectComplete(batchDir: string): void {
  const files = walk(batchDir);
  expect(files.filter((f) => f.includes('.framesift-tmp') || f.startsWith('.work/'))).toEqual([]);
  for (const row of rows(batchDir).filter((r) => r.state === 'done')) {
    const manifest = manifestOf(row.outDir);
    expect(manifest.counts.chosen).toBe(row.frames);
    expect(readdirSync(join(row.outDir, 'images')).sort()).toEqual(manifest.frames.map((f) => f.file).sort());
  }
}

async function collect(inputs: string[], options: Parameters<typeof extractBatch>[1]): Promise<{ events: BatchEvent[]; summary: BatchSummary }> {
  const events: BatchEvent[] = [];
  for await (const event of extractBatch(inputs, options)) events.push(event);
  const finished = events.find((e) => e.type === 'finished');
  if (!finished || finished.type !== 'finished') throw new Error('no finished event');
  return { events, summary: finished.summary };
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const bin = fileURLToPath(new URL('../bin/framesift.js', import.meta.url));

/** Starts the CLI on a batch and sends it `signal` once one job is done and another running. */
async function signalMidBatch(
  args: string[],
  out: string,
  signal: NodeJS.Signals,
  { group = false }: { group?: boolean } = {},
): Promise<{ child: ChildProcess; killedAt: JobRow[]; code: number | null; stderr: string }> {
  const env = { ...process.env, MALLOC_ARENA_MAX: '2' };
  // group: as systemd stops a unit (KillMode=control-group), the signal goes to every process of
  // the group: the launcher, the CLI it starts and the workers. Otherwise MALLOC_ARENA_MAX set:
  // the launcher runs the CLI in this very process (no relaunch child).
  if (group) delete env.MALLOC_ARENA_MAX;
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env, detached: group });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killedAt = await new Promise<JobRow[]>((resolve, reject) => {
    const poll = setInterval(() => {
      let now: JobRow[];
      try {
        now = rows(out);
      } catch {
        return; // the store is not there yet, or its schema is being written
      }
      if (now.some((r) => r.state === 'done') && now.some((r) => r.state === 'running')) {
        clearInterval(poll);
        if (group) process.kill(-child.pid!, signal);
        else child.kill(signal);
        resolve(now);
      }
    }, 25);
    void exited.then(() => {
      clearInterval(poll);
      reject(new Error('the batch ended before the signal'));
    });
  });
  const code = await exited;
  return { child, killedAt, code, stderr };
}

const fast = ['--mode', 'fast', '--count', '4'];

describe('framesift batch', () => {
  it('fails a corrupt clip and a missing path with their codes, completes the rest, keeps same-named clips apart', async () => {
    const root = archive();
    corruptCopy(join(root, 'long.mp4'), join(root, 'a', 'broken.mp4'));
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    // short.mp4 named twice (directly and in the folder): one job.
    const result = await runCli(['batch', root, join(root, 'gone.mp4'), join(root, 'short.mp4'), '-o', out, '--jobs', '2', '--json', ...fast]);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout) as BatchSummary;
    const byName = Object.fromEntries(summary.jobs.map((j) => [j.name, j]));
    expect(Object.keys(byName).sort()).toEqual(['a__broken', 'a__clip', 'b__clip', 'gone', 'long', 'short']);
    expect(byName.a__broken!.error?.code).toBe('ERR_FRAMESIFT_OPEN');
    expect(byName.gone!.error?.code).toBe('ERR_FRAMESIFT_NOT_FOUND');
    for (const name of ['a__clip', 'b__clip', 'long', 'short']) {
      expect(byName[name]!.state).toBe('done');
      expect(byName[name]!.frames).toBe(4);
      expect(manifestOf(join(out, name)).counts.chosen).toBe(4);
    }
    // The two clip.mp4 went to their own folders from their own inputs.
    expect(JSON.parse(readFileSync(join(out, 'a__clip', 'manifest.json'), 'utf8')).input.path).toBe(join(root, 'a', 'clip.mp4'));
    expect(JSON.parse(readFileSync(join(out, 'b__clip', 'manifest.json'), 'utf8')).input.path).toBe(join(root, 'b', 'clip.mp4'));
    expect(existsSync(join(out, 'a__broken'))).toBe(false);
    const report = JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8'));
    expect(report.jobs.map((j: { state: string }) => j.state).sort()).toEqual(['done', 'done', 'done', 'done', 'failed', 'failed']);
    expect(report.jobs.find((j: { name: string }) => j.name === 'long').realtimeFactor).toBeGreaterThan(0);
    expectComplete(out);
    // A second run without --resume refuses to mix into the batch.
    const again = await runCli(['batch', root, '-o', out, ...fast]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--resume/);
  });

  it('--total-frames sums exactly; phase 2 re-selects in the workers from the saved analysis, decoding only the missing candidates', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const total = 40;
    const { summary, events } = await collect([root], { outDir: out, totalFrames: total, jobs: 2, threads: 1 });
    expect(summary.counts.done).toBe(4);
    const chosen = summary.jobs.map((j) => manifestOf(j.outDir).counts.chosen);
    expect(chosen.reduce((a, b) => a + b, 0)).toBe(total);
    expect(summary.frames).toBe(total);
    expect(events.filter((e) => e.type === 'shares')).toHaveLength(1);
    // Every clip's share is above its automatic count here: each is chosen again, in a worker.
    const sharePids = new Set(events.flatMap((e) => (e.type === 'started' && e.pass === 'share' ? [e.pid] : [])));
    expect(sharePids.has(process.pid)).toBe(false);
    expect(sharePids.size).toBeGreaterThanOrEqual(1);
    for (const job of summary.jobs) {
      expect(job.frames).toBe(job.share);
      expect(job.share!).toBeGreaterThan(job.need!);
      expect(job.shareReason).toMatch(/need \d+/);
      // The decoder's own count of delivered frames in the worker, and what the manifest says.
      const manifest = JSON.parse(readFileSync(join(job.outDir, 'manifest.json'), 'utf8'));
      expect(manifest.decode.framesDecoded).toEqual({ measure: 0, describe: job.shareDecoded });
      expect(job.shareDecoded!).toBeGreaterThan(0);
      expect(job.shareDecoded!).toBeLessThan(job.decoded! / 2);
    }
    // Exactly the candidates pass 1 had not described: pass 1 again (same options), then count.
    const long = summary.jobs.find((j) => j.name === 'long')!;
    const reference = join(mkdtempSync(join(tmpdir(), 'framesift-batch-ref-')), 'out');
    const first = await extractFrames(join(root, 'long.mp4'), { outDir: reference, maxFrames: total, threads: 1 });
    expect(first.counts.chosen).toBe(long.need);
    const described = (await loadAnalysis(long.outDir)).described.length;
    expect(described - first.counts.candidates).toBe(long.shareDecoded);
    // The same layout as extract's: the same files and folders, one image and thumbnail per pick.
    expect(layout(long.outDir)).toEqual(layout(reference));
    expect(readdirSync(join(long.outDir, 'images'))).toHaveLength(long.share!);
    expect(readdirSync(join(long.outDir, 'report')).filter((n) => n.startsWith('pick_'))).toHaveLength(long.share!);
    expectComplete(out);
  });

  it('--total-frames below the needs: every share is chosen from the saved candidates, nothing decoded', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const result = await runCli(['batch', root, '-o', out, '--jobs', '2', '--total-frames', '12', '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as BatchSummary;
    expect(summary.jobs.reduce((a, j) => a + manifestOf(j.outDir).counts.chosen, 0)).toBe(12);
    const smaller = summary.jobs.filter((j) => j.share! < j.need!);
    expect(smaller.length).toBeGreaterThanOrEqual(1);
    for (const job of smaller) {
      expect(job.frames).toBe(job.share);
      expect(job.shareDecoded).toBe(0);
    }
    // batch.json carries the same figures.
    const report = JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')) as BatchSummary;
    expect(report.jobs.map((j) => j.shareDecoded)).toEqual(summary.jobs.map((j) => j.shareDecoded));
    expectComplete(out);
  });

  it('--resume keeps finished jobs, re-runs a changed input and retries failed ones only with --retry-failed', async () => {
    const root = archive();
    corruptCopy(join(root, 'short.mp4'), join(root, 'bad.mp4'));
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const options = { outDir: out, mode: 'fast' as const, count: 3, jobs: 2 };
    const first = await collect([root], options);
    expect(first.summary.counts).toMatchObject({ done: 4, failed: 1 });
    const before = Object.fromEntries(first.summary.jobs.filter((j) => j.state === 'done').map((j) => [j.name, manifestOf(j.outDir).createdAt]));

    // Another clip in its place.
    copyFileSync(join(root, 'short.mp4'), join(root, 'a', 'clip.mp4'));
    const second = await collect([root], { ...options, resume: true });
    const ran = second.events.filter((e) => e.type === 'started').map((e) => (e.type === 'started' ? e.job.name : ''));
    expect(ran).toEqual(['a__clip']);
    expect(second.events.filter((e) => e.type === 'kept').map((e) => (e.type === 'kept' ? e.job.name : '')).sort()).toEqual(['b__clip', 'bad', 'long', 'short']);
    for (const name of ['b__clip', 'long', 'short']) expect(manifestOf(join(out, name)).createdAt).toBe(before[name]);
    expect(manifestOf(join(out, 'a__clip')).createdAt).not.toBe(before.a__clip);
    expect(second.summary.counts).toMatchObject({ done: 4, failed: 1 });

    // Other options: every job runs again.
    const third = await collect([root], { ...options, count: 2, resume: true, retryFailed: true });
    expect(third.events.filter((e) => e.type === 'started')).toHaveLength(5);
    expect(third.summary.jobs.filter((j) => j.state === 'done').map((j) => j.frames)).toEqual([2, 2, 2, 2]);
    expectComplete(out);
  });

  it('fingerprints content, not only size: same size, other middle bytes is a change; a new time alone is not', async () => {
    const root = archive();
    const path = join(root, 'long.mp4');
    const input = { input: path, kind: 'video' as const, relName: 'long' };
    const before = await fingerprintInput(input);
    const data = readFileSync(path);
    data[Math.floor(data.length / 2)] ^= 0xff;
    writeFileSync(path, data);
    const after = await fingerprintInput(input);
    expect(after.size).toBe(before.size);
    expect(after.content).not.toBe(before.content);
    data[Math.floor(data.length / 2)] ^= 0xff;
    writeFileSync(path, data);
    const restored = await fingerprintInput(input);
    expect(restored.content).toBe(before.content);
    expect(restored.mtimeMs).not.toBe(before.mtimeMs);
  });

  it('an aborted library call leaves the store consistent, and resume finishes the rest', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const controller = new AbortController();
    const seen: BatchEvent[] = [];
    let caught: unknown;
    try {
      for await (const event of extractBatch([root], { outDir: out, mode: 'fast', count: 3, jobs: 1, signal: controller.signal })) {
        seen.push(event);
        if (event.type === 'done') controller.abort();
      }
    } catch (err) {
      caught = err;
    }
    expect(isFramesiftError(caught, 'ERR_FRAMESIFT_ABORTED')).toBe(true);
    const finished = seen.find((e) => e.type === 'finished');
    expect(finished?.type === 'finished' && finished.summary.interrupted).toBe(true);
    const after = rows(out);
    expect(after.filter((r) => r.state === 'running')).toEqual([]);
    expect(after.filter((r) => r.state === 'done').length).toBeGreaterThanOrEqual(1);
    for (const r of after.filter((x) => x.state === 'queued')) expect(existsSync(r.outDir)).toBe(false);
    expectComplete(out);
    const resumed = await collect([root], { outDir: out, mode: 'fast', count: 3, jobs: 2, resume: true });
    expect(resumed.summary.counts.done).toBe(4);
    expect(resumed.events.filter((e) => e.type === 'started')).toHaveLength(after.filter((r) => r.state !== 'done').length);
    expectComplete(out);
  });

  it('a job whose worker dies runs once more, then fails with ERR_FRAMESIFT_CRASHED; the batch goes on', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const kills = new Map<string, number>();
    const events: BatchEvent[] = [];
    // The OOM killer's way: SIGKILL from outside. long.mp4 dies on both runs, short.mp4 on its first.
    for await (const event of extractBatch([root], { outDir: out, mode: 'fast', count: 3, jobs: 2 })) {
      events.push(event);
      if (event.type === 'started' && (event.job.name === 'long' || (event.job.name === 'short' && !kills.has('short')))) {
        const row = rows(out).find((r) => r.id === event.job.id)!;
        // Only while the store says this very process runs the job (it may have finished already).
        if (row.state === 'running' && row.workerPid === event.pid) {
          kills.set(event.job.name, (kills.get(event.job.name) ?? 0) + 1);
          process.kill(event.pid, 'SIGKILL');
        }
      }
    }
    const finished = events.find((e) => e.type === 'finished');
    if (finished?.type !== 'finished') throw new Error('no summary');
    const byName = Object.fromEntries(finished.summary.jobs.map((j) => [j.name, j]));
    expect(kills.get('long')).toBe(2);
    expect(byName.long!.state).toBe('failed');
    expect(byName.long!.error?.code).toBe('ERR_FRAMESIFT_CRASHED');
    expect(byName.long!.attempts).toBe(2);
    expect(byName.short!.state).toBe('done');
    expect(byName.short!.attempts).toBe(2);
    expect(byName.a__clip!.state).toBe('done');
    expect(byName.b__clip!.state).toBe('done');
    expect(events.filter((e) => e.type === 'failed' && e.retry).map((e) => (e.type === 'failed' ? e.job.name : '')).sort()).toEqual(['long', 'short']);
    expect(rows(out).find((r) => r.relName === 'long')!.crashes).toBe(2);
    expectComplete(out);
  });

  it('resumes after kill -9 of the CLI mid-batch: every good clip done exactly once, no partial files', async () => {
    const root = archive();
    // More clips, so the kill lands mid-batch.
    for (const n of [1, 2, 3]) copyFileSync(join(root, 'long.mp4'), join(root, `more${n}.mp4`));
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const args = ['batch', root, '-o', out, '--jobs', '1', '--mode', 'fast', '--count', '3', '--quiet'];
    const { child, killedAt } = await signalMidBatch(args, out, 'SIGKILL');
    expect(child.signalCode).toBe('SIGKILL');
    // Its worker sees the supervisor gone (the IPC channel closes) and exits on its own.
    const orphan = killedAt.find((r) => r.state === 'running')!.workerPid!;
    const alive = () => {
      try {
        process.kill(orphan, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let waited = 0; alive() && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
    const doneBefore = killedAt.filter((r) => r.state === 'done');
    const createdBefore = Object.fromEntries(doneBefore.map((r) => [r.relName, manifestOf(r.outDir).createdAt]));
    expect(doneBefore.length).toBeGreaterThanOrEqual(1);
    expect(doneBefore.length).toBeLessThan(7);

    const resumed = await runCli([...args, '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const after = rows(out);
    expect(after).toHaveLength(7);
    expect(after.every((r) => r.state === 'done' && r.frames === 3)).toBe(true);
    // Finished before the kill: untouched. The rest: run to the end once in the resumed batch.
    for (const r of doneBefore) {
      expect(manifestOf(r.outDir).createdAt).toBe(createdBefore[r.relName]);
      expect(after.find((a) => a.id === r.id)!.attempts).toBe(1);
    }
    const summary = JSON.parse(resumed.stdout) as BatchSummary;
    expect(summary.counts.done).toBe(7);
    expectComplete(out);
  });

  it('loads --model once per worker and uses it for every clip', async () => {
    const root = archive();
    const model = await writeTestModel(join(mkdtempSync(join(tmpdir(), 'framesift-batch-model-')), 'dinov3.onnx'), TEST_MODELS['dinov3-f32'] as TestModelSpec);
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const run = spawnSync(process.execPath, [bin, 'batch', root, '-o', out, '--jobs', '1', '--model', model, '--mode', 'fast', '--count', '3', '--quiet', '--log-level', 'info'], {
      encoding: 'utf8',
      env: { ...process.env, MALLOC_ARENA_MAX: '2' },
    });
    expect(run.status).toBe(0);
    const logs = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(logs.filter((l) => l.msg === 'model loaded')).toHaveLength(1);
    // The supervisor's and the worker's lines about a job carry its id.
    expect(logs.filter((l) => l.msg === 'job done').every((l) => Number.isInteger(l.jobId))).toBe(true);
    expect(logs.filter((l) => l.msg === 'job done').length).toBeGreaterThanOrEqual(4);
    for (const row of rows(out)) {
      expect(row.state).toBe('done');
      const manifest = JSON.parse(readFileSync(join(row.outDir, 'manifest.json'), 'utf8'));
      expect(manifest.device?.provider).toBe('cpu');
    }
  });

  it('Ctrl-C (SIGINT) stops with status 130, the store consistent and no partial files', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const { code, killedAt } = await signalMidBatch(['batch', root, '-o', out, '--jobs', '1', '--mode', 'fast', '--count', '3', '--quiet'], out, 'SIGINT');
    expect(code).toBe(130);
    const after = rows(out);
    expect(after.filter((r) => r.state === 'running')).toEqual([]);
    expect(after.filter((r) => r.state === 'done').length).toBeGreaterThanOrEqual(killedAt.filter((r) => r.state === 'done').length);
    expect(after.filter((r) => r.state === 'queued').length).toBeGreaterThanOrEqual(1);
    for (const r of after.filter((x) => x.state === 'queued')) expect(existsSync(r.outDir)).toBe(false);
    expectComplete(out);
    expect(JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')).interrupted).toBe(true);
  });

  it('SIGTERM to the whole process group (systemd): workers wait for the supervisor, which stops cleanly with 130', async () => {
    const root = archive();
    const out = join(mkdtempSync(join(tmpdir(), 'framesift-batch-')), 'out');
    const args = ['batch', root, '-o', out, '--jobs', '2', '--mode', 'fast', '--count', '3', '--quiet', '--log-level', 'info'];
    const { code, killedAt, stderr } = await signalMidBatch(args, out, 'SIGTERM', { group: true });
    expect(code).toBe(130);
    const logs = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; signal?: string | null; code?: number | null; pid?: number });
    // Every worker ended by the supervisor closing its channel, none by the signal itself.
    const exits = logs.filter((l) => l.msg === 'worker exited');
    expect(exits.length).toBeGreaterThanOrEqual(1);
    for (const exit of exits) expect([exit.signal, exit.code]).toEqual([null, 0]);
    const pids = new Set(exits.map((e) => e.pid));
    for (const r of killedAt.filter((x) => x.state === 'running')) expect(pids.has(r.workerPid!)).toBe(true);
    const after = rows(out);
    expect(after.filter((r) => r.state === 'running')).toEqual([]);
    // An interrupted job is not a crash: nothing counted against the inputs.
    expect(after.map((r) => r.crashes)).toEqual(after.map(() => 0));
    expect(after.filter((r) => r.state === 'queued').length).toBeGreaterThanOrEqual(1);
    for (const r of after.filter((x) => x.state === 'queued')) expect(existsSync(r.outDir)).toBe(false);
    expectComplete(out);
    expect(JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')).interrupted).toBe(true);
  });
});
