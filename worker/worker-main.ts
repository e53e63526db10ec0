// Standalone worker entry (`tsx worker/worker-main.ts`): configuration from the environment, stops
// cleanly on SIGTERM/SIGINT. `strata worker` does the same through the CLI.
import { closeDb } from '../lib/db/client.ts';
import { ConfigError, loadConfig } from '../lib/env.ts';
import { runWorker } from './worker.ts';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
try {
  await runWorker(config, { signal: stop.signal });
} finally {
  await closeDb();
}
