/**
 * runBench(): resolves the workloads, describes the machine, runs the chosen suites one after
 * another and collects their figures. A suite that throws (or measures nothing because every
 * part was skipped) is reported as skipped with the reason; the others still run.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { packageRoot } from '../../bindings/index.js';
import { decodeSuite } from './decode.js';
import { extractSuite } from './extract.js';
import { inferenceSuite } from './inference.js';
import { describeMachine } from './machine.js';
import { metricsSuite } from './metrics.js';
import type { BenchResults, ExtractMode, SuiteName, SuiteResult } from './schema.js';
import { siftSuite } from './sift.js';
import { reasonOf, type Suite, type SuiteContext } from './suite.js';
import { frameWorkloads, resolveWorkloads } from './workloads.js';

const SUITE_RUNNERS: Record<SuiteName, Suite> = {
  decode: decodeSuite,
  metrics: metricsSuite,
  sift: siftSuite,
  inference: inferenceSuite,
  extract: extractSuite,
};

export interface BenchOptions {
  videos?: string[];
  suites: SuiteName[];
  runs: number;
  /** Default: 1 and every core. */
  threads?: number[];
  batchSizes: number[];
  devices: string[];
  modes: ExtractMode[];
  model?: string;
  quick: boolean;
  /** Progress lines: (suite, message). */
  onProgress?: (suite: SuiteName | 'setup', message: string) => void;
  signal?: AbortSignal;
}

export function defaultThreads(): number[] {
  return [...new Set([1, availableParallelism()])];
}

function toolVersion(): string {
  return JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')).version;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const createdAt = new Date().toISOString();
  const progress = options.onProgress ?? (() => undefined);
  const machine = await describeMachine();
  const workloads = await resolveWorkloads(options.videos ?? [], options.quick, (id) => progress('setup', `workload ${id}`));
  const threads = options.threads?.length ? options.threads : defaultThreads();
  const suites: SuiteResult[] = [];
  for (const name of options.suites) {
    const context: SuiteContext = {
      workloads,
      frameWorkloads: frameWorkloads(workloads),
      runs: options.runs,
      threads,
      batchSizes: options.batchSizes,
      devices: options.devices,
      modes: options.modes,
      model: options.model,
      quick: options.quick,
      progress: (message) => progress(name, message),
      signal: options.signal,
    };
    const started = performance.now();
    const elapsed = () => +((performance.now() - started) / 1000).toFixed(2);
    try {
      const out = await SUITE_RUNNERS[name](context);
      if (!out.figures.length) {
        const reasons = [...new Set(out.skipped.map((s) => s.reason))];
        suites.push({ suite: name, status: 'skipped', reason: reasons.join('; ') || 'nothing to measure', seconds: elapsed(), figures: [], skipped: out.skipped });
      } else {
        suites.push({ suite: name, status: 'ok', seconds: elapsed(), figures: out.figures, skipped: out.skipped });
      }
    } catch (err) {
      if (options.signal?.aborted) throw err;
      suites.push({ suite: name, status: 'skipped', reason: reasonOf(err), seconds: elapsed(), figures: [], skipped: [] });
    }
  }
  return {
    schemaVersion: 1,
    tool: { name: 'framesift', version: toolVersion() },
    createdAt,
    settings: {
      suites: options.suites,
      runs: options.runs,
      threads,
      batchSizes: options.batchSizes,
      devices: options.devices,
      modes: options.modes,
      model: options.model ?? null,
      quick: options.quick,
    },
    machine,
    workloads,
    suites,
  };
}
