/** Types of the native metrics module (native/metrics_binding.cc). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface MetricsExports {}
