// `npm run test:chaos`: the fault-injection and abuse suite (lib/reliability/*.test.ts and
// e2e/abuse/*.spec.ts) with ≥ 20 trials per case (STRATA_CHAOS_TRIALS, default 20; `--trials N`),
// then lib/reliability/results.json and results.md — the figures the README's Reliability section quotes.
// `--only <part of a file name>` reruns those files only (no Playwright unless it names an e2e spec)
// and replaces their cases in the existing results.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CaseResult } from '../lib/reliability/harness.ts';
import { RESULTS_DIR_ENV } from '../lib/reliability/harness.ts';
import { ensureTools, TOOLS } from '../lib/process/system-tools.ts';
import { freePort, startPostgres } from '../lib/services/postgres.ts';
import { TEST_PG_ENV } from '../lib/testing/stack.ts';
import { nodeTestArgs, run } from './node-tests.ts';

const arg = process.argv.indexOf('--trials');
const trials = Number(arg > 0 ? process.argv[arg + 1] : (process.env.STRATA_CHAOS_TRIALS ?? 20));
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write('chaos: --trials must be a positive integer\n');
  process.exit(2);
}
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const OUT = path.join('lib', 'reliability');
const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-chaos-'));
const bin = (name: string) => path.join('node_modules', '.bin', name);


// What `npm test` installs when missing (as root with apt), Chromium included: the abuse specs drive it.
ensureTools([TOOLS.zstd, TOOLS.age, TOOLS.ageKeygen, TOOLS.pgDump, TOOLS.pgRestore, TOOLS.psql, TOOLS.postgres, TOOLS.chromium]);
const started = Date.now();
const pg = await startPostgres();
const env = { ...process.env, E2E_PORT: process.env.E2E_PORT ?? String(await freePort()), [TEST_PG_ENV]: pg.adminUrl('postgres'), STRATA_CHAOS_TRIALS: String(trials), [RESULTS_DIR_ENV]: resultsDir };
const steps: { step: string; code: number }[] = [];
try {
  const files = fs.readdirSync(OUT).filter((f) => f.endsWith('.test.ts') && (!only || f.includes(only))).sort().map((f) => path.join(OUT, f));
  if (files.length) steps.push({ step: 'node tests', code: await run(process.execPath, nodeTestArgs(files), env) });
  const specs = fs.readdirSync(path.join('e2e', 'abuse')).filter((f) => f.endsWith('.spec.ts') && (!only || f.includes(only)));
  if (specs.length) {
    if (!fs.existsSync(path.join('.next', 'BUILD_ID'))) steps.push({ step: 'next build', code: await run(bin('next'), ['build'], env) });
    steps.push({ step: 'Playwright e2e/abuse', code: await run(bin('playwright'), ['test', '--no-deps', ...specs.map((f) => `e2e/abuse/${f}`)], env) });
  }
} finally {
  await pg.stop();
}

const fresh = fs
  .readdirSync(resultsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8')) as CaseResult);
const earlier: CaseResult[] = only && fs.existsSync(path.join(OUT, 'results.json')) ? JSON.parse(fs.readFileSync(path.join(OUT, 'results.json'), 'utf8')).cases : [];
const cases = [...earlier.filter((c) => !fresh.some((f) => f.case === c.case)), ...fresh]
  .sort((a, b) => a.group.localeCompare(b.group) * -1 || a.case.localeCompare(b.case));
const report = {
  generated_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  trials_per_case: trials,
  rerun_only: only ?? null,
  wall_seconds: Math.round((Date.now() - started) / 1000),
  steps,
  cases,
};
fs.writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const md = [
  `Last run: ${report.generated_at}, ${trials} trials per case${only ? ` (only the "${only}" files rerun; other cases from the previous full run)` : ''}, ${Math.round(report.wall_seconds / 60)} min wall time. Steps: ${steps.map((s) => `${s.step} ${s.code === 0 ? 'ok' : `FAILED (${s.code})`}`).join(', ')}.`,
  '',
  '| | case | trials | outcomes | invariant violations |',
  '|---|---|---:|---|---:|',
  ...cases.map((c) =>
    `| ${c.group} | ${cell(c.case)} | ${c.trials} | ${cell(Object.entries(c.outcomes).sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o}: ${n}`).join('; '))} | ${c.violations} |`,
  ),
  '',
].join('\n');
fs.writeFileSync(path.join(OUT, 'results.md'), md);
process.stdout.write(`\n${md}\nwritten: ${OUT}/results.json, ${OUT}/results.md\n`);
fs.rmSync(resultsDir, { recursive: true, force: true });
process.exit(steps.every((s) => s.code === 0) && cases.every((c) => c.violations === 0) ? 0 : 1);
