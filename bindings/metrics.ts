/** Types of the native metrics module (native/metrics_binding.cc). Field names match the C++ structs. */
import type { NativeFrame } from './decoder.js';
import type { NativeGrayImage } from './image.js';

/** Flat, pre-validated options: src/core/metrics.ts checks every value before it gets here. */
export interface NativeMeasureOptions {
  /** Bitmask of metric groups (bit i = METRIC_NAMES[i] in src/core/metrics.ts). */
  metrics: number;
  /** Worker threads for the batch, 1..64 (the libuv thread is one of them). */
  threads: number;
  /** The frame before frames[0] (e.g. the last one of the previous batch), for motion. */
  previous?: NativeFrame | NativeGrayImage | null;
  /** Also return cpuMs: each frame's CPU time in ms (its metrics and its pair's). */
  timing?: boolean;
}

/**
 * Structure of arrays: one Float64Array per selected field (length = count), NaN where a value
 * is undefined (motion of the first frame without `previous`); `phash` as a BigUint64Array.
 */
export interface NativeMeasureResult {
  count: number;
  metrics: number;
  phash?: BigUint64Array;
  [field: string]: Float64Array | BigUint64Array | number | undefined;
}

export interface MetricsExports {
  measureFrames(frames: Array<NativeFrame | NativeGrayImage>, options: NativeMeasureOptions): Promise<NativeMeasureResult>;
  /** Every Float64Array field name with the bit of the metric group that produces it. */
  metricFields: Record<string, number>;
}
