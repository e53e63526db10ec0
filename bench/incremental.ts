// Item 10: incremental backups (issue 15) on the big tenant. A first incremental backup fills the
// chunk store; then, interleaved, full and incremental backups of the unchanged tenant (time, and the
// bytes each adds); then 1% more rows in the largest table and 1% of one small table's rows updated,
// and one more incremental backup; then in-place restores of a full and an incremental backup of the
// same state (time, exact by fingerprint), and of the incremental backup after the change (exact).
import { sql } from 'drizzle-orm';
import { quoteIdent } from '../lib/db/ident.ts';
import { createRestore } from '../lib/restore/create.ts';
import { schemaFingerprint } from '../lib/testing/compat/fingerprint.ts';
import { BIG, strataBackup, type StrataBackup } from './backup.ts';
import { bottleneck, figure, median, MB, runNodeChild, type Bench } from './harness.ts';
import { round } from './proc.ts';

const RSS_TARGET_MB = 150;
const seconds = (b: StrataBackup) => Number(b.run.out.seconds);

async function restoreInPlace(bench: Bench, backupId: string, label: string) {
  const row = await createRestore(bench.db, { backupId, mode: 'in_place', requestedBy: 'bench', exactCopy: true });
  const run = await runNodeChild(bench, ['restore', row.id]);
  bench.profiles[label] = run.profile;
  if (run.out.status !== 'completed') throw new Error(`bench restore ${row.id} ended ${String(run.out.status)}`);
  const fingerprint = await schemaFingerprint(bench.config.DATABASE_URL, BIG.schemaName);
  const aside = run.out.movedAside;
  if (typeof aside === 'string') await bench.db.execute(sql.raw(`drop schema ${quoteIdent(aside)} cascade`));
  return { run, seconds: Number(run.out.seconds), fingerprint };
}

export async function benchIncremental(bench: Bench): Promise<void> {
  bench.log('\n== 10. Incremental backups (big tenant → local S3) ==');
  const before = await schemaFingerprint(bench.config.DATABASE_URL, BIG.schemaName);
  // A full backup first, not counted: the first incremental then reads the tenant from a warm cache
  // like every backup after it.
  const warm = await strataBackup(bench, BIG.id, ['s3_standard']);
  bench.log(`  warm-up full backup: ${seconds(warm).toFixed(2)} s`);
  const first = await strataBackup(bench, BIG.id, ['s3_standard'], {}, 'incremental');
  bench.profiles['strata incremental backup S3, first'] = first.run.profile;
  bench.log(`  first incremental: ${seconds(first).toFixed(2)} s, added ${round(first.addedBytes / MB, 1)} MB`);

  const fulls: StrataBackup[] = [];
  const incs: StrataBackup[] = [];
  for (let i = 0; i < bench.sizes.reps; i++) {
    const full = await strataBackup(bench, BIG.id, ['s3_standard']);
    fulls.push(full);
    bench.profiles[`strata full backup S3 (item 10) #${i + 1}`] = full.run.profile;
    const inc = await strataBackup(bench, BIG.id, ['s3_standard'], {}, 'incremental');
    incs.push(inc);
    bench.profiles[`strata incremental backup S3, unchanged #${i + 1}`] = inc.run.profile;
    bench.log(`  rep ${i + 1}: full ${seconds(full).toFixed(2)} s, incremental ${seconds(inc).toFixed(2)} s (added ${round(inc.addedBytes / MB, 2)} MB)`);
  }
  const fullS = round(median(fulls.map(seconds)));
  const incS = round(median(incs.map(seconds)));
  const fullStored = fulls.at(-1)!.storedBytes;
  const unchanged = incs.at(-1)!;

  // The change of the issue: rows equal to 1% of the largest table appended, 1% of one small table's rows updated.
  const s = quoteIdent(BIG.schemaName);
  const largest = (
    await bench.db.execute<{ relname: string; n: string }>(sql`
      select c.relname, c.reltuples::bigint as n from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
      where ns.nspname = ${BIG.schemaName} and c.relkind = 'r' order by pg_relation_size(c.oid) desc limit 1`)
  ).rows[0]!;
  const columns = (
    await bench.db.execute<{ name: string }>(sql`
      select column_name as name from information_schema.columns
      where table_schema = ${BIG.schemaName} and table_name = ${largest.relname} and is_identity = 'NO' and coalesce(column_default, '') not like 'nextval%'
      order by ordinal_position`)
  ).rows.map((r) => quoteIdent(r.name));
  const appended = Math.ceil(Number(largest.n) / 100);
  // Copies of existing rows with new ids, appended at the end of the table (and so of its COPY data).
  await bench.db.execute(sql.raw(`insert into ${s}.${quoteIdent(largest.relname)} (${columns.join(', ')})
    select ${columns.join(', ')} from ${s}.${quoteIdent(largest.relname)} order by id limit ${appended}`));
  const practitioners = await bench.db.execute(sql.raw(`update ${s}.practitioners set full_name = full_name || ' (updated)' where id % 100 = 0`));
  const changedState = await schemaFingerprint(bench.config.DATABASE_URL, BIG.schemaName);
  const changed = await strataBackup(bench, BIG.id, ['s3_standard'], {}, 'incremental');
  bench.profiles['strata incremental backup S3, after the change'] = changed.run.profile;
  bench.details.incremental = {
    fullSeconds: fulls.map((b) => round(seconds(b))),
    incrementalSeconds: incs.map((b) => round(seconds(b))),
    firstIncrementalSeconds: round(seconds(first)),
    appendedTable: largest.relname,
    appendedRows: appended,
    updatedPractitioners: practitioners.rowCount,
  };

  const ratio = round(incS / fullS);
  figure(bench, {
    item: 10,
    label: 'first incremental backup (fills the chunk store)',
    value: round(seconds(first)),
    unit: 's',
    note: `${round(seconds(first) / fullS)}× a full backup; added ${round(first.addedBytes / MB, 1)} MB, a full backup stores ${round(fullStored / MB, 1)} MB (per-chunk compression)`,
  });
  figure(bench, {
    item: 10,
    label: 'incremental backup of the unchanged tenant (median)',
    value: incS,
    unit: 's',
    target: `≤ 1.1× a full backup (${(1.1 * fullS).toFixed(1)} s)`,
    met: ratio <= 1.1,
    note: `${ratio}× the full backup's ${fullS} s in the same run`,
  });
  const pct = (n: number) => round((100 * n) / fullStored, 2);
  figure(bench, {
    item: 10,
    label: 'bytes uploaded and added by the second backup of an unchanged tenant',
    value: round(unchanged.addedBytes / MB, 2),
    unit: 'MB',
    target: '≤ 3% of a full backup',
    met: pct(unchanged.addedBytes) <= 3,
    note: `${pct(unchanged.addedBytes)}% of ${round(fullStored / MB, 1)} MB`,
  });
  figure(bench, {
    item: 10,
    label: `bytes added after +1% ${largest.relname} (${appended} rows) and 1% of practitioners updated`,
    value: round(changed.addedBytes / MB, 2),
    unit: 'MB',
    target: '≤ 10% of a full backup',
    met: pct(changed.addedBytes) <= 10,
    note: `${pct(changed.addedBytes)}% of a full backup`,
  });
  const peak = Math.max(...[first, ...incs, changed].map((b) => b.run.profile.processes['node (strata)']?.peakRssMb ?? Infinity));
  figure(bench, { item: 10, label: 'peak RSS node (strata), incremental backups', value: peak, unit: 'MB', target: `≤ ${RSS_TARGET_MB} MB`, met: peak <= RSS_TARGET_MB });
  const mid = [...incs].sort((a, b) => seconds(a) - seconds(b))[Math.floor(incs.length / 2)]!;
  figure(bench, { item: 10, label: 'profile of the median incremental backup', value: null, unit: '', note: bottleneck(mid.run.profile) });

  // Restores of one state, full and incremental; then the incremental after the change.
  const fullRestore = await restoreInPlace(bench, fulls.at(-1)!.backupId, 'strata in-place restore, full (item 10)');
  const incRestore = await restoreInPlace(bench, unchanged.backupId, 'strata in-place restore, incremental');
  const exact = JSON.stringify(fullRestore.fingerprint) === JSON.stringify(before) && JSON.stringify(incRestore.fingerprint) === JSON.stringify(before);
  const restoreRatio = round(incRestore.seconds / fullRestore.seconds);
  const restoreRss = incRestore.run.profile.processes['node (strata)']?.peakRssMb ?? Infinity;
  figure(bench, {
    item: 10,
    label: 'in-place restore of an incremental backup',
    value: round(incRestore.seconds),
    unit: 's',
    target: `≤ 1.2× a full backup's restore (${(1.2 * fullRestore.seconds).toFixed(1)} s); both exact; peak RSS ≤ ${RSS_TARGET_MB} MB`,
    met: restoreRatio <= 1.2 && exact && restoreRss <= RSS_TARGET_MB,
    note: `${restoreRatio}× the full restore's ${round(fullRestore.seconds)} s; fingerprints ${exact ? 'equal the backed-up tenant' : 'DIFFER'}; peak RSS node ${restoreRss} MB (full restore: ${fullRestore.run.profile.processes['node (strata)']?.peakRssMb} MB)`,
  });
  const after = await restoreInPlace(bench, changed.backupId, 'strata in-place restore, incremental after the change');
  const afterExact = JSON.stringify(after.fingerprint) === JSON.stringify(changedState);
  figure(bench, {
    item: 10,
    label: 'in-place restore of the incremental backup taken after the change',
    value: round(after.seconds),
    unit: 's',
    target: 'exact',
    met: afterExact,
    note: afterExact ? 'fingerprint equals the changed tenant' : 'fingerprint DIFFERS',
  });
}
