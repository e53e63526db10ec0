// `--wait`: follow a job until it ends. With no live worker, run that job (and only it: no schedules
// fired, no other job claimed, no maintenance) in this process meanwhile (docs/design.md: "with
// --wait and no worker up it runs in-process").
import { pino } from 'pino';
import type { Db } from '../../lib/db/client.ts';
import { workers } from '../../lib/db/queries/workers.ts';
import { lowerOwnPriority } from '../../lib/process/priority.ts';
import type { Config } from '../../lib/env.ts';
import type { JobKind } from '../../lib/jobs/queues.ts';
import { runWorker } from '../worker.ts';

export interface JobState {
  status: string;
  progress?: string;
}

const FINAL = new Set(['completed', 'failed', 'deleted', 'undone', 'passed']);
/** How often the job's row is read: often while this process runs it (it ends the command), else once a second. */
const POLL_IN_PROCESS_MS = 200;
const POLL_MS = 1000;

export async function awaitJob(
  db: Db,
  config: Config,
  /** The job: a backup's dump group, or a restore's or verification's id. */
  job: { kind: JobKind; key: string },
  poll: () => Promise<JobState>,
  info: (message: string) => void,
): Promise<JobState> {
  const alive = (await workers(db)).some((w) => w.alive);
  const stop = new AbortController();
  let inProcess: Promise<void> | undefined;
  if (!alive) {
    info('No worker is running: running the job in this process.');
    // Background work, as in a worker (worker-main.ts): this process at nice 10 like the programs it
    // spawns, so the database and the application keep the CPU first. Left at nice 0 it also competed
    // with the server backend feeding its own pg_dump (bench item 8: 1.62× the floor against a
    // worker's 1.43× in the same run).
    lowerOwnPriority();
    // Quiet logs: the CLI prints its own progress. Maintenance chores stay with real workers.
    inProcess = runWorker(config, { signal: stop.signal, maintenance: false, only: job, log: pino({ level: 'warn' }, pino.destination(2)) });
  }
  let last = '';
  try {
    for (;;) {
      const state = await poll();
      const line = `${state.status}${state.progress ? ` ${state.progress}` : ''}`;
      if (line !== last) info(line);
      last = line;
      if (FINAL.has(state.status)) return state;
      await new Promise((r) => setTimeout(r, inProcess ? POLL_IN_PROCESS_MS : POLL_MS));
    }
  } finally {
    stop.abort();
    await inProcess?.catch(() => {});
  }
}
