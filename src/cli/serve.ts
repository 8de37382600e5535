/**
 * `framesift serve --redis URL --input-root DIR --output-root DIR [--host H] [--port P]`: the
 * REST job API (src/serve) until SIGTERM/SIGINT. Bearer token from FRAMESIFT_API_TOKEN or
 * --token-file; without one it listens on loopback only.
 */
import { once } from 'node:events';

import type { Argv } from 'yargs';

import { checkNumber } from '../pipeline/options.js';
import { readToken, serve } from '../serve/index.js';
import type { CliContext } from './context.js';
import { ATTEMPTS_OPTION, BACKOFF_OPTION, REDIS_OPTION, retryPolicy } from './queue.js';

export function registerServe(yargs: Argv, context: CliContext): Argv {
  return yargs.command(
    'serve',
    'REST job API over the queue: POST /v1/jobs, GET /v1/jobs/:id[/events], DELETE, /healthz, /metrics',
    (y) =>
      y
        .option('redis', REDIS_OPTION)
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (beyond loopback only with a token)' })
        .option('port', { type: 'number', default: 8080, describe: 'port (0: any free port)' })
        .option('input-root', { type: 'string', demandOption: true, describe: 'inputs must resolve inside this folder' })
        .option('output-root', { type: 'string', demandOption: true, describe: 'outputs must resolve inside this folder' })
        .option('token-file', { type: 'string', describe: 'file holding the bearer token (else env FRAMESIFT_API_TOKEN)' })
        .option('allow-urls', { type: 'boolean', default: false, describe: 'accept URL inputs (workers then fetch them)' })
        .option('max-queued', { type: 'number', default: 10_000, describe: 'waiting jobs at most; POST answers 429 beyond' })
        .option('body-limit', { type: 'number', default: 65_536, describe: 'largest request body, bytes' })
        .option('attempts', ATTEMPTS_OPTION)
        .option('backoff', BACKOFF_OPTION),
    async (argv) => {
      const token = await readToken(argv['token-file']);
      const server = await serve({
        redis: argv.redis,
        host: argv.host,
        port: checkNumber('--port', argv.port, 0, 65_535, true),
        inputRoot: argv['input-root'],
        outputRoot: argv['output-root'],
        ...(token !== undefined ? { token } : {}),
        allowUrls: argv['allow-urls'],
        maxQueued: checkNumber('--max-queued', argv['max-queued'], 1, 1e9, true),
        bodyLimit: checkNumber('--body-limit', argv['body-limit'], 1024, 1 << 30, true),
        ...retryPolicy(argv),
        logger: context.logger,
      });
      context.stderr(`framesift: serving ${server.url}${token ? '' : ' (no token: loopback only)'}\n`);
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await server.close();
    },
  );
}
