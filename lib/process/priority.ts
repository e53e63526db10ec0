// Backups are background work: on a host shared with the database or the app they take the CPU only
// when nothing in the foreground wants it (nice 10). Only under contention does this change anything.
//
// Measured on 2 cores with everything on one host (bench item 5, pgbench p95 during a 350 MB backup):
// 20–28 ms with the pipeline programs each in a session of their own (a Linux scheduler autogroup per
// session makes their nice value meaningless against other sessions), 16–20 ms in the worker's session
// at nice 10, 9–15 ms with the worker's own threads at nice 10 too; a bare pg_dump > /dev/null: 4–7 ms.
import fs from 'node:fs';
import os from 'node:os';

export const BACKGROUND_NICE = 10;

/** At least nice 10 for a process or thread (never a higher priority); one that already exited is left alone. */
export function lowerPriority(pid: number | undefined): void {
  if (!pid) return;
  try {
    os.setPriority(pid, Math.max(os.getPriority(pid), BACKGROUND_NICE));
  } catch {
    // the process already exited; its own exit code tells what happened
  }
}

/**
 * At least nice 10 for this process: every thread (on Linux a nice value belongs to a thread, and V8's and
 * libuv's threads already run when this is called); threads started later inherit it.
 */
export function lowerOwnPriority(): void {
  let threads: string[] = [];
  try {
    threads = fs.readdirSync('/proc/self/task');
  } catch {
    // not Linux: the main thread only
  }
  if (threads.length === 0) threads = [String(process.pid)];
  for (const tid of threads) lowerPriority(Number(tid));
}
