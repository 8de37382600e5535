/**
 * JSON Schemas of the job API: they validate request bodies and queries (fastify's Ajv) and
 * make the OpenAPI document (@fastify/swagger). Types only: the ranges and rules of each
 * option are checked by resolveExtractOptions, as for the CLI, so both give the same message.
 */
import { JOB_STATES } from '../queue/index.js';

const number = { type: 'number' } as const;
const integer = { type: 'integer' } as const;
const boolean = { type: 'boolean' } as const;
const string = { type: 'string' } as const;

/** The extract options a job may set (camelCase, as in a --config file). */
export const jobOptionsSchema = {
  type: 'object',
  description: 'Extract options (docs: README "Commands"); outDir is relative to the output root.',
  additionalProperties: false,
  properties: {
    outDir: { type: 'string', description: 'output folder inside the output root (default: the input path without extension)' },
    count: integer,
    maxFrames: integer,
    mode: { type: 'string', enum: ['fast', 'balanced', 'high_quality'] },
    model: { type: 'string', description: 'ONNX model file inside the input root' },
    device: { type: 'string', enum: ['auto', 'cpu', 'cuda', 'coreml'] },
    strictDevice: boolean,
    format: { type: 'string', enum: ['jpg', 'png', 'webp'] },
    quality: integer,
    force: boolean,
    start: number,
    end: number,
    minSpacing: number,
    overlap: number,
    weights: { type: 'object', additionalProperties: { type: 'number' } },
    analysisSize: integer,
    threads: integer,
    batchSize: integer,
    maxMemoryMB: number,
    sequenceFps: number,
    twoPass: boolean,
    report: boolean,
    maxAnalysedFrames: integer,
    readTimeoutSec: number,
  },
} as const;

export const createJobBody = {
  type: 'object',
  required: ['input'],
  additionalProperties: false,
  properties: {
    input: { type: 'string', minLength: 1, description: 'video file or image folder inside the input root (a URL only where the server allows URLs)' },
    options: jobOptionsSchema,
    priority: { type: 'integer', description: '1 is the highest; larger numbers wait longer' },
  },
} as const;

const errorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: string, message: string } } },
} as const;

const jobError = { type: ['object', 'null'], properties: { code: string, message: string } } as const;

export const jobView = {
  type: 'object',
  properties: {
    id: string,
    state: string,
    input: string,
    outDir: string,
    priority: integer,
    progress: { type: ['object', 'null'], additionalProperties: true },
    attemptsMade: integer,
    attempts: integer,
    error: jobError,
    result: { type: ['object', 'null'], additionalProperties: true, description: 'outDir, manifestPath and the run summary' },
    createdAt: string,
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
  },
} as const;

const jobIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } } as const;

export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  413: errorBody,
  429: errorBody,
  503: errorBody,
};

export const routeSchemas = {
  createJob: {
    summary: 'Queue an extract job',
    body: createJobBody,
    response: { 202: { type: 'object', properties: { id: string, created: boolean, state: string } }, ...errorResponses },
  },
  getJob: { summary: 'A job: state, progress, error, result', params: jobIdParams, response: { 200: jobView, ...errorResponses } },
  listJobs: {
    summary: 'Jobs in one state, newest first, a page at a time',
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        state: { type: 'string', enum: [...JOB_STATES], default: 'waiting' },
        offset: { type: 'integer', minimum: 0, default: 0 },
        limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: { state: string, offset: integer, limit: integer, total: integer, next: { type: ['integer', 'null'] }, jobs: { type: 'array', items: jobView } },
      },
      ...errorResponses,
    },
  },
  deleteJob: {
    summary: 'Remove a waiting job, or abort an active one',
    params: jobIdParams,
    response: { 200: { type: 'object', properties: { id: string, state: string } }, 202: { type: 'object', properties: { id: string, state: string } }, ...errorResponses },
  },
  jobEvents: { summary: 'Server-Sent Events: state, progress and the final state of a job', params: jobIdParams, produces: ['text/event-stream'] },
};
