// Item 3: Strata's in-place restore (download, verify, decrypt, decompress, prerequisite check,
// one-transaction replay and swap) against raw pg_restore of the same dump from a local file into an
// empty database (so the schema is new and empty), single-transaction and -j 2.
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { exactSchemaPattern } from '../lib/backup/dump.ts';
import { quoteIdent } from '../lib/db/ident.ts';
import { createRestore } from '../lib/restore/create.ts';
import { toolCommand } from '../lib/process/tool-process.ts';
import { TOOLS } from '../lib/process/system-tools.ts';
import { BIG, pgDumpPath, pgEnv } from './backup.ts';
import { bottleneck, figure, runCommand, runNodeChild, type Bench } from './harness.ts';
import { round } from './proc.ts';

async function freshDatabase(bench: Bench, name: string): Promise<void> {
  await bench.db.execute(sql.raw(`drop database if exists ${quoteIdent(name)} with (force)`));
  await bench.db.execute(sql.raw(`create database ${quoteIdent(name)}`));
}

export async function benchRestore(bench: Bench, backupId: string): Promise<void> {
  bench.log('\n== 3. Restore speed ==');
  const dumpFile = path.join(bench.dir, 'big.pgdump');
  await runCommand(bench, pgDumpPath(), ['-Fc', '-Z0', '--strict-names', '-n', exactSchemaPattern(BIG.schemaName), '-f', dumpFile], { env: pgEnv(bench) });
  const pgRestore = toolCommand(TOOLS.pgRestore);

  await freshDatabase(bench, 'bench_raw_restore');
  const single = await runCommand(bench, pgRestore, ['--single-transaction', '--exit-on-error', '-d', 'bench_raw_restore', dumpFile], { env: pgEnv(bench) });
  bench.profiles['pg_restore --single-transaction'] = single.profile;
  await bench.db.execute(sql.raw('drop database bench_raw_restore with (force)'));

  await freshDatabase(bench, 'bench_raw_restore_j2');
  const parallel = await runCommand(bench, pgRestore, ['-j', '2', '--exit-on-error', '-d', 'bench_raw_restore_j2', dumpFile], { env: pgEnv(bench) });
  bench.profiles['pg_restore -j 2'] = parallel.profile;
  await bench.db.execute(sql.raw('drop database bench_raw_restore_j2 with (force)'));

  const row = await createRestore(bench.db, { backupId, mode: 'in_place', requestedBy: 'bench' });
  // Phase boundaries as the dashboard sees them (restore_jobs.phase), polled every 100 ms.
  const phases: Record<string, number> = {};
  const t0 = performance.now();
  const poll = setInterval(() => {
    void bench.db
      .execute<{ phase: string | null }>(sql`select phase from restore_jobs where id = ${row.id}`)
      .then((r) => {
        const phase = r.rows[0]?.phase;
        if (phase && phases[phase] === undefined) phases[phase] = round((performance.now() - t0) / 1000, 1);
      })
      .catch(() => {});
  }, 100);
  const strata = await runNodeChild(bench, ['restore', row.id]).finally(() => clearInterval(poll));
  bench.details.restorePhasesStartedAtSeconds = phases;
  bench.profiles['strata in-place restore'] = strata.profile;
  if (strata.out.status !== 'completed') throw new Error(`bench restore ${row.id} ended ${String(strata.out.status)}`);
  const aside = strata.out.movedAside;
  if (typeof aside === 'string') await bench.db.execute(sql.raw(`drop schema ${quoteIdent(aside)} cascade`));

  const strataS = round(Number(strata.out.seconds));
  const ratio = round(strataS / single.seconds);
  figure(bench, { item: 3, label: 'raw pg_restore --single-transaction (local file → empty database)', value: single.seconds, unit: 's' });
  figure(bench, { item: 3, label: 'raw pg_restore -j 2', value: parallel.seconds, unit: 's', note: `${round(parallel.seconds / single.seconds)}× single-transaction` });
  figure(bench, {
    item: 3,
    label: 'Strata in-place restore from S3',
    value: strataS,
    unit: 's',
    target: `≤ 1.5× single-transaction (${(1.5 * single.seconds).toFixed(1)} s)`,
    met: ratio <= 1.5,
    note: `${ratio}× single-transaction, ${round(strataS / parallel.seconds)}× -j 2; peak RSS node ${strata.profile.processes['node (strata)']?.peakRssMb} MB`,
  });
  const phaseText = Object.entries(phases).map(([k, v]) => `${k} @${v} s`).join(', ');
  figure(bench, { item: 3, label: 'restore profile (Strata)', value: null, unit: '', note: `phases: ${phaseText}; ${bottleneck(strata.profile)}` });
  figure(bench, { item: 3, label: 'restore profile (pg_restore --single-transaction)', value: null, unit: '', note: bottleneck(single.profile) });
}
