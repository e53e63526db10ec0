// The worker process (bundled and started by worker/launch.ts for `npm run worker` and `strata worker`):
// configuration from the environment, stops cleanly on SIGTERM/SIGINT, runs at nice 10 (lib/process/priority.ts).
import { closeDb } from '../lib/db/client.ts';
import { lowerOwnPriority } from '../lib/process/priority.ts';
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
lowerOwnPriority();
const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
try {
  await runWorker(config, { signal: stop.signal });
} finally {
  await closeDb();
}
