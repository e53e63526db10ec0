// The one command line that runs node test files (npm test, npm run test:chaos) and the one way both
// scripts run a program.
import { spawn } from 'node:child_process';

/**
 * `node --import tsx --test …` for these files. --test-force-exit: a file's process exits once its
 * tests are done (seen twice in CI: a file whose tests had all passed spun at 100% CPU in node's
 * exit-time handle cleanup, a zombie esbuild child of tsx beside it, and never exited).
 */
export function nodeTestArgs(files: string[]): string[] {
  return ['--import', 'tsx', '--test', '--test-force-exit', '--test-concurrency=2', '--test-reporter=spec', ...files];
}

/** Runs a program with inherited stdio; resolves with its exit code (1 when killed by a signal). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
