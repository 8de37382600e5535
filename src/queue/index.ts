/** Many machines: framesift jobs on a BullMQ queue in Redis (producer, workers, cancel channel). */
export { createQueue, FramesiftQueue, JOB_STATES, viewOf, type AddJobOptions, type AddResult, type JobView, type ListState, type FramesiftBullJob } from './queue.js';
export { runWorker, FramesiftWorker, type RunWorkerOptions, type WorkerMemory } from './worker.js';
export { jobIdFor, type FramesiftJobData, type FramesiftJobResult, type FramesiftJobProgress, type JobOptions } from './job.js';
export { jobErrorOf, type JobError } from './failure.js';
export { DEFAULT_QUEUE_NAME, DEFAULT_PREFIX, framesiftKey, redisConnection, type QueueLocation } from './connection.js';
