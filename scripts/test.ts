// `npm test`: typecheck, lint, unit + integration tests (real PostgreSQL, s3rver, B2 server) and the
// Playwright e2e suite. Installs missing system packages with apt when run as root.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, startPostgres } from '../lib/services/postgres.ts';
import { ensureTools, TOOLS } from '../lib/process/system-tools.ts';
import { TEST_PG_ENV } from '../lib/testing/stack.ts';
import { nodeTestArgs, run } from './node-tests.ts';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const SKIP_DIRS = new Set(['node_modules', '.next', '.git', '.strata', 'e2e', 'test-results', 'bench']);

function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) findTests(p, out);
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(process.cwd(), p));
  }
  return out.sort();
}


const results: { step: string; ok: boolean }[] = [];
async function step(name: string, fn: () => Promise<number>): Promise<boolean> {
  const started = Date.now();
  process.stdout.write(`\n=== ${name} ===\n`);
  const code = await fn();
  results.push({ step: name, ok: code === 0 });
  process.stdout.write(`=== ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s ===\n`);
  return code === 0;
}

// Clients nobody here wrote, for the B2 server's tests: rclone, and Backblaze's Python SDK (a module of
// Debian's python3, found by its package file).
const B2SDK = { command: '__init__.py', aptPackage: 'python3-b2sdk', extraDirs: () => ['/usr/lib/python3/dist-packages/b2sdk'] };
ensureTools([TOOLS.zstd, TOOLS.age, TOOLS.ageKeygen, TOOLS.pgDump, TOOLS.pgRestore, TOOLS.psql, TOOLS.postgres, { command: 'rclone', aptPackage: 'rclone' }, { command: 'jq', aptPackage: 'jq' }, B2SDK, ...(only ? [] : [TOOLS.chromium])]);

const bin = (name: string) => path.join('node_modules', '.bin', name);
if (!only) {
  await step('typecheck', () => run(bin('tsc'), ['--noEmit', '-p', '.']));
  await step('lint', () => run(bin('eslint'), ['.', '--max-warnings=0']));
}

const pg = await startPostgres();
const testEnv = { ...process.env, [TEST_PG_ENV]: pg.adminUrl('postgres') };
const stopAll = async () => {
  await pg.stop();
};
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));
try {
  const files = findTests('.').filter((f) => !only || only === 'unit' || f.includes(only));
  await step(`unit and integration tests (${files.length} files)`, () =>
    run(process.execPath, nodeTestArgs(files), testEnv),
  );
  const hasE2e = fs.existsSync('playwright.config.ts') && fs.existsSync('e2e') && fs.readdirSync('e2e', { recursive: true }).some((f) => String(f).endsWith('.spec.ts'));
  if (!only && hasE2e) {
    // The e2e suite runs the production build, as operators do.
    const built = await step('build (next build)', () => run(process.execPath, ['node_modules/next/dist/bin/next', 'build'], { ...process.env, NODE_ENV: 'production' }));
    // A free port, so a dashboard already running here (a demo, another checkout) is never tested instead.
    const e2eEnv = { ...testEnv, E2E_PORT: String(await freePort()) };
    if (built) await step('e2e (Playwright, Chromium)', () => run(bin('playwright'), ['test'], e2eEnv));
  }
} finally {
  await stopAll();
}

const failed = results.filter((r) => !r.ok);
process.stdout.write(`\n${results.map((r) => `${r.ok ? 'ok    ' : 'FAILED'} ${r.step}`).join('\n')}\n`);
process.exit(failed.length ? 1 : 0);
