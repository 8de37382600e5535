/**
 * Entry of a batch worker process (forked by pool.ts; its jobs: worker-jobs.ts). A process, not
 * a worker thread, so a native crash or an OOM kill takes only this process and its one job
 * (docs/batch.md). It stops only when the supervisor says so or is gone: SIGINT/SIGTERM sent to
 * the whole process group (a terminal's Ctrl-C, systemd's KillMode=control-group) are the
 * supervisor's to handle. The handlers come first, before the pipeline's modules load (a
 * second or so), so a signal while the worker starts does not end it either.
 */
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
await import('./worker-jobs.js');
