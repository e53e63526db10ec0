// Items 1, 2 and 7: backup speed against pg_dump's floor and the seed's approach, peak RSS of every
// pipeline process at two tenant sizes, and the same backup through the B2 server.
import { eq } from 'drizzle-orm';
import { createBackupGroup } from '../lib/backup/create.ts';
import { PgConnection } from '../lib/process/child-env.ts';
import { exactSchemaPattern } from '../lib/backup/dump.ts';
import { toolCommand } from '../lib/process/tool-process.ts';
import { backupJobs } from '../lib/db/schema.ts';
import type { BackupType, StorageTier } from '../lib/domain.ts';
import { TOOLS } from '../lib/process/system-tools.ts';
import { bottleneck, figure, median, MB, runCommand, runNodeChild, type Bench, type ChildRun } from './harness.ts';
import { round, type RunProfile } from './proc.ts';

export const BIG = { id: 'bench-big', schemaName: 'bench_big' };
export const SMALL = { id: 'bench-small', schemaName: 'bench_small' };

const PIPELINE = ['pg_dump', 'zstd', 'age', 'node (strata)'];
const RSS_TARGET_MB = 150;

/** The environment Strata gives pg_dump (allow-list, passfile in the bench's dir, removed with it). */
export function pgEnv(bench: Bench): NodeJS.ProcessEnv {
  return PgConnection.fromUrl(bench.config.sourceUrl, { appName: 'strata-bench', dir: bench.dir }).prepare().env as NodeJS.ProcessEnv;
}

export const pgDumpPath = () => toolCommand(TOOLS.pgDump);

export interface StrataBackup {
  run: ChildRun;
  backupId: string;
  dumpBytes: number;
  storedBytes: number;
  /** Stored bytes the backup added (an incremental one: only its new chunks). */
  addedBytes: number;
}

/** One Strata backup group of `tenantId` to `tiers`, run in a separate node process. */
export async function strataBackup(
  bench: Bench,
  tenantId: string,
  tiers: StorageTier[],
  extraEnv: Record<string, string> = {},
  backupType: BackupType = 'full',
  includeFiles = false,
): Promise<StrataBackup> {
  const [row] = await createBackupGroup(bench.db, { tenantId, storageTiers: tiers, origin: 'manual', requestedBy: 'bench', backupType, includeFiles });
  const run = await runNodeChild(bench, ['backup', row!.dumpGroup], extraEnv);
  const [done] = await bench.db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
  if (done?.status !== 'completed') throw new Error(`bench backup ${row!.id} is ${done?.status}: ${done?.errorMessage}`);
  return { run, backupId: done.id, dumpBytes: done.dumpSizeBytes ?? 0, storedBytes: done.backupSizeBytes ?? 0, addedBytes: done.addedBytes ?? 0 };
}

export function floorDump(bench: Bench, schema: string) {
  return runCommand(bench, pgDumpPath(), ['-Fc', '-Z0', '--strict-names', '-n', exactSchemaPattern(schema)], { env: pgEnv(bench), stdout: 'null' });
}

function peaks(profile: RunProfile): Record<string, number> {
  return Object.fromEntries(PIPELINE.map((p) => [p, profile.processes[p]?.peakRssMb ?? 0]));
}

export async function benchBackup(bench: Bench): Promise<{ lastS3Backup: StrataBackup; strataSeconds: number }> {
  bench.log('\n== 1. Backup speed (big tenant → local S3) ==');
  const floors: number[] = [];
  const stratas: StrataBackup[] = [];
  for (let i = 0; i < bench.sizes.reps; i++) {
    const floor = await floorDump(bench, BIG.schemaName);
    floors.push(floor.seconds);
    bench.profiles[`floor pg_dump -Z0 #${i + 1}`] = floor.profile;
    const strata = await strataBackup(bench, BIG.id, ['s3_standard']);
    stratas.push(strata);
    bench.profiles[`strata backup S3 #${i + 1}`] = strata.run.profile;
    bench.log(`  rep ${i + 1}: floor ${floor.seconds.toFixed(2)} s, Strata ${Number(strata.run.out.seconds).toFixed(2)} s (child wall ${strata.run.seconds.toFixed(2)} s)`);
  }
  const last = stratas[stratas.length - 1]!;
  const floorS = round(median(floors));
  const strataS = round(median(stratas.map((s) => Number(s.run.out.seconds))));
  const dumpMb = round(last.dumpBytes / MB, 0);
  bench.details.backup = { floorSeconds: floors, strataSeconds: stratas.map((s) => round(Number(s.run.out.seconds))), rawDumpMb: dumpMb };

  const seed = await runNodeChild(bench, ['seed', BIG.schemaName, 'bench/seed-approach.sql.gz']);
  bench.profiles['seed pg_dump | gzip → memory → PUT'] = seed.profile;
  const fcDefault = await runCommand(bench, pgDumpPath(), ['-Fc', '--strict-names', '-n', exactSchemaPattern(BIG.schemaName)], { env: pgEnv(bench), stdout: 'count' });
  bench.profiles['pg_dump -Fc (default compression)'] = fcDefault.profile;

  figure(bench, { item: 1, label: 'raw dump (pg_dump -Fc -Z0) of the big tenant', value: dumpMb, unit: 'MB' });
  figure(bench, { item: 1, label: 'floor: pg_dump -Fc -Z0 > /dev/null (median)', value: floorS, unit: 's' });
  const ratio = round(strataS / floorS);
  figure(bench, {
    item: 1,
    label: 'Strata full backup → S3 (median)',
    value: strataS,
    unit: 's',
    target: `≤ 1.5× floor (${(1.5 * floorS).toFixed(1)} s)`,
    met: ratio <= 1.5,
    note: `${ratio}× floor`,
  });
  figure(bench, { item: 1, label: "seed's approach: pg_dump | gzip → memory → PUT", value: round(Number(seed.out.seconds)), unit: 's', note: `${round(Number(seed.out.seconds) / floorS)}× floor, stored ${round(Number(seed.out.storedBytes) / MB, 1)} MB, node peak RSS ${seed.profile.processes['node (strata)']?.peakRssMb} MB` });
  figure(bench, { item: 1, label: 'pg_dump -Fc (default zlib) time', value: fcDefault.seconds, unit: 's' });
  const storedMb = round(last.storedBytes / MB, 1);
  const fcMb = round(fcDefault.bytes / MB, 1);
  figure(bench, { item: 1, label: 'Strata stored size (zstd + age)', value: storedMb, unit: 'MB', target: `≤ pg_dump -Fc default (${fcMb} MB)`, met: storedMb <= fcMb });
  const mid = [...stratas].sort((a, b) => Number(a.run.out.seconds) - Number(b.run.out.seconds))[Math.floor(stratas.length / 2)]!;
  figure(bench, { item: 1, label: 'profile of the median Strata backup (child process incl. its start-up)', value: null, unit: '', note: bottleneck(mid.run.profile) });
  figure(bench, { item: 1, label: 'profile of the floor', value: null, unit: '', note: bottleneck(bench.profiles['floor pg_dump -Z0 #1']!) });

  bench.log('\n== 2. Memory (peak RSS, VmHWM) ==');
  const bigPeaks: Record<string, number> = {};
  for (const s of stratas) for (const [k, v] of Object.entries(peaks(s.run.profile))) bigPeaks[k] = Math.max(bigPeaks[k] ?? 0, v);
  const small = await strataBackup(bench, SMALL.id, ['s3_standard']);
  bench.profiles['strata backup S3 (small tenant)'] = small.run.profile;
  const smallPeaks = peaks(small.run.profile);
  const smallMb = round(small.dumpBytes / MB, 0);
  for (const p of PIPELINE) {
    const big = bigPeaks[p]!;
    const sm = smallPeaks[p]!;
    // Flat: the bigger tenant adds no more than 20% (plus 8 MB of allocator noise).
    const flat = big <= sm * 1.2 + 8;
    figure(bench, {
      item: 2,
      label: `peak RSS ${p} at ${smallMb} MB → ${dumpMb} MB raw dump`,
      value: big,
      unit: 'MB',
      target: `≤ ${RSS_TARGET_MB} MB, flat`,
      met: big <= RSS_TARGET_MB && sm <= RSS_TARGET_MB && flat,
      note: `${sm} MB → ${big} MB${flat ? ' (flat)' : ' (grows)'}`,
    });
  }

  const baseline = round(Math.max(...stratas.map((s) => Number(s.run.out.rssBeforeMb))), 1);
  figure(bench, { item: 2, label: 'node (strata) resident after loading its modules, before the backup', value: baseline, unit: 'MB', note: 'bundled like a worker (worker/launch.ts): AWS SDK, Drizzle, pg; the pipeline adds the rest' });
  // The part size is configuration (S3_PART_SIZE_MB): what a smaller one does to memory and time.
  const smallParts = await strataBackup(bench, BIG.id, ['s3_standard'], { S3_PART_SIZE_MB: '8' });
  bench.profiles['strata backup S3, S3_PART_SIZE_MB=8'] = smallParts.run.profile;
  figure(bench, {
    item: 2,
    label: 'peak RSS node (strata) with S3_PART_SIZE_MB=8 (default 16)',
    value: smallParts.run.profile.processes['node (strata)']?.peakRssMb ?? null,
    unit: 'MB',
    target: `≤ ${RSS_TARGET_MB} MB`,
    met: (smallParts.run.profile.processes['node (strata)']?.peakRssMb ?? Infinity) <= RSS_TARGET_MB,
    note: `backup ${round(Number(smallParts.run.out.seconds))} s (${round(Number(smallParts.run.out.seconds) / floorS)}× floor)`,
  });

  bench.log('\n== 7. The B2 path (large-file API) ==');
  const b2 = await strataBackup(bench, BIG.id, ['b2_cold']);
  bench.profiles['strata backup B2'] = b2.run.profile;
  const b2S = round(Number(b2.run.out.seconds));
  figure(bench, {
    item: 7,
    label: 'Strata full backup → B2 server',
    value: b2S,
    unit: 's',
    target: `≤ 1.5× floor (${(1.5 * floorS).toFixed(1)} s)`,
    met: b2S / floorS <= 1.5,
    note: `${round(b2S / floorS)}× floor, ${round(b2S / strataS)}× the S3 backup; peak RSS node ${b2.run.profile.processes['node (strata)']?.peakRssMb} MB`,
  });
  if (b2S / floorS > 1.5) figure(bench, { item: 7, label: 'profile of the B2 backup', value: null, unit: '', note: bottleneck(b2.run.profile) });
  // The memory target holds for every storage path: the B2 upload keeps its own part buffers.
  const b2Peak = b2.run.profile.processes['node (strata)']?.peakRssMb ?? null;
  figure(bench, {
    item: 2,
    label: `peak RSS node (strata), ${dumpMb} MB raw dump → B2 (large-file API)`,
    value: b2Peak,
    unit: 'MB',
    target: `≤ ${RSS_TARGET_MB} MB`,
    met: b2Peak !== null && b2Peak <= RSS_TARGET_MB,
  });
  return { lastS3Backup: last, strataSeconds: strataS };
}
