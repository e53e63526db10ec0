// `--wait`: follow a job until it ends. With no live worker, run one in this process meanwhile
// (docs/design.md: "with --wait and no worker up it runs in-process").
import { pino } from 'pino';
import type { Db } from '../../lib/db/client.ts';
import { workers } from '../../lib/db/queries/workers.ts';
import type { Config } from '../../lib/env.ts';
import { runWorker } from '../worker.ts';

export interface JobState {
  status: string;
  progress?: string;
}

const FINAL = new Set(['completed', 'failed', 'deleted', 'undone', 'passed']);

export async function awaitJob(
  db: Db,
  config: Config,
  poll: () => Promise<JobState>,
  info: (message: string) => void,
): Promise<JobState> {
  const alive = (await workers(db)).some((w) => w.alive);
  const stop = new AbortController();
  let inProcess: Promise<void> | undefined;
  if (!alive) {
    info('No worker is running: running the job in this process.');
    // Quiet logs: the CLI prints its own progress. Maintenance chores stay with real workers.
    inProcess = runWorker(config, { signal: stop.signal, maintenance: false, log: pino({ level: 'warn' }, pino.destination(2)) });
  }
  let last = '';
  try {
    for (;;) {
      const state = await poll();
      const line = `${state.status}${state.progress ? ` ${state.progress}` : ''}`;
      if (line !== last) info(line);
      last = line;
      if (FINAL.has(state.status)) return state;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    stop.abort();
    await inProcess?.catch(() => {});
  }
}
