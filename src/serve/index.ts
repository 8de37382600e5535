/** The job API (fastify) over the queue: see server.ts. */
export { createServer, serve, type ServeOptions, type JobServer } from './server.js';
export { BearerAuth, readToken, isLoopback } from './auth.js';
