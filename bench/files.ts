// Item 11: tenant files (issue 16). A small tenant whose files prefix holds 1,000 small files and 3
// large ones (≥ 50 MB, multipart) in the local S3 files bucket; its backup with files, against the
// same backup without (the difference is the file part: its throughput); then 10 files changed and 5
// added, and a second backup with files: its time, what it read from the bucket and what it added.
import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { backupJobs } from '../lib/db/schema.ts';
import { filesBucketFromConfig, type FilesBucket } from '../lib/storage/files-bucket.ts';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { strataBackup, type StrataBackup } from './backup.ts';
import { figure, median, MB, type Bench } from './harness.ts';
import { round } from './proc.ts';

export const FILES_TENANT = { id: 'bench-files', schemaName: 'bench_files' };
const PREFIX = `tenants/${FILES_TENANT.id}/`;
const RSS_TARGET_MB = 150;
const seconds = (b: StrataBackup) => Number(b.run.out.seconds);

async function put(bucket: FilesBucket, key: string, body: Buffer): Promise<void> {
  await bucket.put(
    key,
    (async function* () {
      for (let i = 0; i < body.length; i += 4 * MB) yield body.subarray(i, i + 4 * MB);
    })(),
    { contentType: 'application/octet-stream', metadata: {}, size: body.length },
  );
}

/** 1,000 files of 2–62 KiB and 3 of 50–58 MB; the quick run makes the large ones 8 MB (still multipart). */
async function fillPrefix(bench: Bench, bucket: FilesBucket): Promise<{ files: number; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < 1000; i++) {
    const body = crypto.randomBytes(2048 + ((i * 7919) % 60) * 1024);
    await put(bucket, `${PREFIX}docs/${String(i).padStart(4, '0')}.pdf`, body);
    bytes += body.length;
  }
  for (let i = 0; i < 3; i++) {
    const size = (bench.quick ? 9 : 50 + 4 * i) * MB;
    const body = crypto.randomBytes(size);
    await put(bucket, `${PREFIX}scans/large-${i}.dcm`, body);
    bytes += size;
  }
  return { files: 1003, bytes };
}

export async function benchFiles(bench: Bench): Promise<void> {
  bench.log('\n== 11. Tenant files (1,000 small + 3 large files → local S3) ==');
  const bucket = filesBucketFromConfig(bench.config);
  if (!bucket) throw new Error('item 11 needs STRATA_FILES_BUCKET (the local services set it)');
  try {
    await createDemoTenant(bench.db, { ...FILES_TENANT, name: 'Bench Files Clinic', plan: 'premium', patients: 2000 });
    const set = await fillPrefix(bench, bucket);
    bench.log(`  files prefix: ${set.files} objects, ${round(set.bytes / MB, 1)} MB`);

    const without: number[] = [];
    const withFiles: StrataBackup[] = [];
    for (let i = 0; i < bench.sizes.reps; i++) {
      without.push(seconds(await strataBackup(bench, FILES_TENANT.id, ['s3_standard'])));
      // Each backup with files starts from nothing in the tier: the previous one's chunks are dropped with its row.
      await bench.db.delete(backupJobs).where(eq(backupJobs.tenantId, FILES_TENANT.id));
      await bench.db.execute(sql`delete from chunks where tenant_id = ${FILES_TENANT.id}`);
      const b = await strataBackup(bench, FILES_TENANT.id, ['s3_standard'], {}, 'full', true);
      withFiles.push(b);
      bench.profiles[`strata backup with files #${i + 1}`] = b.run.profile;
      bench.log(`  rep ${i + 1}: without files ${without.at(-1)!.toFixed(2)} s, with files ${seconds(b).toFixed(2)} s`);
    }
    const withoutS = round(median(without));
    const withS = round(median(withFiles.map(seconds)));
    const fileSeconds = Math.max(0.01, withS - withoutS);
    const throughput = round(set.bytes / MB / fileSeconds, 1);
    const first = withFiles.at(-1)!;
    const [firstRow] = await bench.db.select().from(backupJobs).where(eq(backupJobs.id, first.backupId));
    const peak = Math.max(...withFiles.map((b) => b.run.profile.processes['node (strata)']?.peakRssMb ?? Infinity));
    figure(bench, {
      item: 11,
      label: `files backup throughput (${set.files} files, ${round(set.bytes / MB, 0)} MB)`,
      value: throughput,
      unit: 'MB/s',
      note: `backup with files ${withS} s − without ${withoutS} s (median of ${bench.sizes.reps}); stored ${round(Number(firstRow!.filesStoredBytes) / MB, 1)} MB of file chunks`,
    });
    figure(bench, { item: 11, label: 'peak RSS node (strata), backups with files', value: peak, unit: 'MB', target: `≤ ${RSS_TARGET_MB} MB`, met: peak <= RSS_TARGET_MB });

    // 10 small files changed, 5 added: the next backup reads and stores only those.
    let changedBytes = 0;
    for (let i = 0; i < 10; i++) {
      const body = crypto.randomBytes(16 * 1024 + i);
      await put(bucket, `${PREFIX}docs/${String(i * 97).padStart(4, '0')}.pdf`, body);
      changedBytes += body.length;
    }
    for (let i = 0; i < 5; i++) {
      const body = crypto.randomBytes(24 * 1024 + i);
      await put(bucket, `${PREFIX}new/upload-${i}.txt`, body);
      changedBytes += body.length;
    }
    const second = await strataBackup(bench, FILES_TENANT.id, ['s3_standard'], {}, 'full', true);
    bench.profiles['strata backup with files, second'] = second.run.profile;
    const [secondRow] = await bench.db.select().from(backupJobs).where(eq(backupJobs.id, second.backupId));
    const read = (second.run.out.files ?? {}) as { downloaded_files?: number; downloaded_bytes?: number };
    const added = Number(secondRow!.filesAddedBytes);
    figure(bench, {
      item: 11,
      label: 'second backup with files after 10 changed and 5 new files',
      value: round(seconds(second)),
      unit: 's',
      target: 'reads only the 15 changed files',
      met: read.downloaded_files === 15,
      note: `read ${read.downloaded_files} files (${round((read.downloaded_bytes ?? 0) / 1024, 1)} KiB) from the bucket; the backup without files takes ${withoutS} s`,
    });
    figure(bench, {
      item: 11,
      label: 'file bytes the second backup added',
      value: round(added / 1024, 1),
      unit: 'KiB',
      target: `≤ 1.1× the changed files' ${round(changedBytes / 1024, 1)} KiB`,
      met: added <= 1.1 * changedBytes,
      note: `the first backup stored ${round(Number(firstRow!.filesStoredBytes) / MB, 1)} MB`,
    });
    bench.details.files = { files: set.files, bytes: set.bytes, withoutSeconds: without, withSeconds: withFiles.map(seconds), secondSeconds: seconds(second), read, added, changedBytes };
  } finally {
    bucket.destroy();
  }
}
