// How a worker process is started — `npm run worker`, the demo, the tests and the bench alike: plain
// node running an esbuild bundle of worker/worker-main.ts (Strata's own modules in one file, packages
// from node_modules as they are), with a 1 MB young-generation semi-space.
//
// Measured on these machines (bench item 2): under tsx the worker is 122–132 MB resident before any
// job (tsx's loader runs a second V8 isolate and compiles every module at start) and takes 1.9 CPU-s to
// start; from the bundle, 86–88 MB and 0.85 CPU-s. The semi-space flag keeps a backup's worker
// ≈ 35–45 MB smaller at no measured speed cost (it must be given at start: V8 ignores it later).
// The bundle takes ≈ 0.1 s to build, so it is built whenever a worker is launched: no stale build.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Two levels below the root like lib/db/, so paths that modules compute from import.meta.url still hold. */
const OUT_DIR = path.join(ROOT, '.strata', 'build');

const WORKER_NODE_FLAGS = ['--max-semi-space-size=1'] as const;
const WORKER_ENTRY = path.join(ROOT, 'worker', 'worker-main.ts');

const built = new Map<string, string>();

/**
 * Bundles `entry` (a TypeScript file of this repository) into .strata/build and returns the file.
 * The name carries a hash of the contents: launchers building at once (parallel tests) never write
 * over a file a process is starting from.
 */
function bundle(entry: string = WORKER_ENTRY): string {
  const cached = built.get(entry);
  if (cached && fs.existsSync(cached)) return cached;
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const hash = crypto.createHash('sha256').update(code).digest('hex').slice(0, 12);
  const file = path.join(OUT_DIR, `${path.basename(entry, '.ts')}-${hash}.mjs`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(OUT_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  }
  built.set(entry, file);
  return file;
}

/** node's arguments for a worker process (or, with `entry`, another script that must run like one). */
export function workerNodeArgs(entry: string = WORKER_ENTRY): string[] {
  return [...WORKER_NODE_FLAGS, bundle(entry)];
}

/**
 * `npm run worker` and `strata worker`: the worker in a session of its own, in the foreground, its exit
 * code returned. A terminal's Ctrl-C signals its whole process group: the worker, in another session,
 * gets it once (passed on from here) and its pg_dump, zstd and age get none, so running jobs finish
 * within STRATA_SHUTDOWN_GRACE_SECONDS instead of losing their programs.
 */
export function runWorkerInForeground(): Promise<number> {
  const child = spawn(process.execPath, workerNodeArgs(), { stdio: 'inherit', detached: true });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await runWorkerInForeground());
}
