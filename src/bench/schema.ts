/**
 * The results file of `framesift bench`: TS types mirroring results.schema.json (draft 2020-12,
 * the contract) and its ajv validation.
 */
import { fileURLToPath } from 'node:url';

import { Ajv2020 } from 'ajv/dist/2020.js';

import type { MachineInfo } from './machine.js';
import schema from './results.schema.json' with { type: 'json' };

export const RESULTS_SCHEMA_PATH: string = fileURLToPath(new URL('./results.schema.json', import.meta.url));

export const SUITES = ['decode', 'metrics', 'sift', 'inference', 'extract'] as const;
export type SuiteName = (typeof SUITES)[number];
export const EXTRACT_MODES = ['fast', 'balanced', 'high_quality'] as const;
export type ExtractMode = (typeof EXTRACT_MODES)[number];

export interface StatsJson {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export type Params = Record<string, string | number | boolean>;

export interface Figure {
  name: string;
  workload?: string;
  params: Params;
  unit: string;
  better: 'higher' | 'lower';
  value: StatsJson;
  reference?: { name: string; value: StatsJson };
  ratio?: StatsJson & { meaning: string };
  extra?: Record<string, number | string | null>;
}

export interface SkippedPart {
  name: string;
  params?: Params;
  reason: string;
}

export interface SuiteResult {
  suite: SuiteName;
  status: 'ok' | 'skipped';
  reason?: string;
  seconds: number;
  figures: Figure[];
  skipped: SkippedPart[];
}

export interface Workload {
  id: string;
  path: string;
  generated: boolean;
  codec: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  durationSec: number;
  bytes: number;
  sha256: string;
}

export interface BenchSettings {
  suites: SuiteName[];
  runs: number;
  threads: number[];
  batchSizes: number[];
  devices: string[];
  modes?: ExtractMode[];
  model?: string | null;
  quick: boolean;
}

export interface BenchResults {
  schemaVersion: 1;
  tool: { name: 'framesift'; version: string };
  createdAt: string;
  settings: BenchSettings;
  machine: MachineInfo;
  workloads: Workload[];
  suites: SuiteResult[];
}

let check: ReturnType<Ajv2020['compile']> | undefined;

/** Errors of `value` against results.schema.json, as "path: message" lines; empty when valid. */
export function validateResults(value: unknown): string[] {
  // Compiled on first use: other commands never pay for it.
  check ??= new Ajv2020({ allErrors: true, strict: true, strictNumbers: true, allowUnionTypes: true }).compile(schema);
  if (check(value)) return [];
  return (check.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}
