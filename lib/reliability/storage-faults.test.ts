// Fault: storage unavailable or misbehaving while a job runs — B2 answering 503, slow answers, B2
// tokens expiring mid-job, the S3 server stopped mid-upload, connections reset mid-upload and
// mid-download. Each job is retried and completes, or fails with a clear message; nothing
// half-written is ever marked completed, and a restore leaves the live tenant whole unless it completed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { b2Api } from '../backup/test-support.ts';
import type { Db } from '../db/client.ts';
import { backupJobs, restoreJobs, type BackupJobRow } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { runPrune } from '../prune/run-prune.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { verifyBackup } from '../restore/verify.ts';
import { LOCAL_S3_BUCKET } from '../services/local.ts';
import { startS3Server, type S3Server } from '../services/s3.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { setB2Latency } from '../../worker/test-support.ts';
import { assertStoredState, catalogTexts, leakedSecrets, randomInt, runCase, secretsOfEnv, sleep, waitUntil } from './harness.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const TENANT = 'sf';

describe('storage faults during backups and restores', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  let s3: S3Server;
  let s3Dir: string;
  let proxy: TcpProxy;
  let b2: Awaited<ReturnType<typeof b2Api>>;
  before(async () => {
    s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-chaos-s3-'));
    s3 = await startS3Server({ dir: s3Dir, buckets: [LOCAL_S3_BUCKET] });
    proxy = await startTcpProxy(s3.port);
    stack = await startTestStack({ S3_ENDPOINT: proxy.url, B2_PART_SIZE_MB: '5', S3_PART_SIZE_MB: '5' });
    db = stack.db;
    stores = createStores(stack.config);
    b2 = await b2Api(stack.config);
    // ~6 MB of incompressible rows: a multipart upload to S3, a large file of two parts to B2.
    await addTinyTenants(db, [TENANT], { plan: 'basic', rows: 1500, rowBytes: 4096 });
  });
  after(async () => {
    await stack?.stop();
    await proxy?.stop();
    await s3?.stop();
    fs.rmSync(s3Dir, { recursive: true, force: true });
  });

  /** One backup group run in this process; the rows as they ended and the error, if any. */
  async function backup(tiers: StorageTier[], during?: (group: string) => Promise<void>) {
    const [row] = await createBackupGroup(db, { tenantId: TENANT, storageTiers: tiers, origin: 'manual', requestedBy: 'chaos' });
    const group = row!.dumpGroup;
    const run = runBackupGroup({ db, config: stack.config, stores }, group).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    if (during) await during(group);
    const error = await run;
    const rows = await db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, group));
    return { rows, error };
  }
  const running = (group: string) =>
    waitUntil('the backup to run', async () => (await db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, group))).some((r) => r.status !== 'pending'), 30_000, 10);

  /** Completed → stored exactly (checked by assertStoredState); failed → a clear message. */
  function outcome(rows: BackupJobRow[], error: Error | undefined, clear: RegExp): string {
    if (rows.every((r) => r.status === 'completed')) {
      assert.equal(error, undefined);
      return 'completed';
    }
    assert.ok(rows.every((r) => r.status === 'failed'), `every row failed: ${rows.map((r) => r.status)}`);
    for (const r of rows) {
      assert.match(r.errorMessage!, clear, 'a clear failure message');
      assert.doesNotMatch(r.errorMessage!, /\n\s+at /, 'no stack trace');
    }
    return 'failed cleanly';
  }

  it('B2 answering 503 to uploads', async () => {
    await runCase('B2 503s on upload (failNextUploads)', 'fault', async (i) => {
      const n = i % 2 === 1 ? 1000 : randomInt(1, 3);
      await b2.failNextUploads(n);
      const { rows, error } = await backup(['b2_cold']);
      await b2.failNextUploads(0);
      const o = outcome(rows, error, /b2_upload_(part|file): 503|service_unavailable/);
      if (n === 1000) assert.equal(o, 'failed cleanly', 'persistent 503s end in a failure');
      await assertStoredState(db, stores, stack.config, TENANT);
      return n === 1000 ? `every upload 503 → ${o}` : `${n} × 503 → ${o} (retried)`;
    });
  });

  it('B2 answering slowly', async () => {
    await runCase('B2 slow answers (100–300 ms per call)', 'fault', async () => {
      await setB2Latency(stack.config, randomInt(100, 300));
      try {
        const { rows, error } = await backup(['b2_cold']);
        const o = outcome(rows, error, /./);
        assert.equal(o, 'completed', `a slow store is not a failure: ${error?.message}`);
        const v = await verifyBackup({ db, config: stack.config, stores }, rows[0]!.id);
        assert.equal(v.status, 'passed', v.errorMessage ?? '');
      } finally {
        await setB2Latency(stack.config, 0);
      }
      await assertStoredState(db, stores, stack.config, TENANT);
      return 'backup completed, verify passed';
    });
  });

  it('B2 tokens expiring mid-upload and mid-download', async () => {
    await runCase('B2 tokens expiring mid-job', 'fault', async () => {
      await setB2Latency(stack.config, 40);
      let expired = 0;
      let o: string;
      let verified = 'not verified';
      try {
        const { rows, error } = await backup(['b2_cold'], async (group) => {
          await running(group);
          await sleep(randomInt(0, 800));
          await fetch(`${stack.config.B2_AUTH_URL}/__strata/expire-tokens`, {
            method: 'POST',
            headers: { authorization: `Basic ${Buffer.from(`${stack.config.B2_APPLICATION_KEY_ID}:${stack.config.B2_APPLICATION_KEY}`).toString('base64')}` },
          });
          expired++;
        });
        o = outcome(rows, error, /expired|401|auth/i);
        if (o === 'completed') {
          const verifying = verifyBackup({ db, config: stack.config, stores }, rows[0]!.id);
          await sleep(randomInt(0, 300));
          await fetch(`${stack.config.B2_AUTH_URL}/__strata/expire-tokens`, {
            method: 'POST',
            headers: { authorization: `Basic ${Buffer.from(`${stack.config.B2_APPLICATION_KEY_ID}:${stack.config.B2_APPLICATION_KEY}`).toString('base64')}` },
          });
          const v = await verifying;
          if (v.status !== 'passed') assert.match(v.errorMessage!, /expired|401|auth/i);
          verified = `verify ${v.status}`;
        }
      } finally {
        await setB2Latency(stack.config, 0);
      }
      assert.equal(expired, 1);
      await assertStoredState(db, stores, stack.config, TENANT);
      return `backup ${o}, ${verified}`;
    });
  });

  it('S3 server stopped mid-upload', async () => {
    await runCase('S3 server stopped mid-upload', 'fault', async () => {
      const threshold = randomInt(256 * 1024, 5 * 1024 * 1024);
      let stoppedAt = -1;
      const { rows, error } = await backup(['s3_standard'], async (group) => {
        await running(group);
        const start = proxy.bytesUp();
        await waitUntil('bytes to flow', async () => proxy.bytesUp() - start >= threshold || (await db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, group))).every((r) => r.status !== 'running'), 30_000, 5);
        stoppedAt = proxy.bytesUp() - start;
        await s3.stop();
      });
      const o = outcome(rows, error, /ECONNREFUSED|ECONNRESET|socket|connect|upload|network|closed/i);
      // The server comes back (same data directory); the next prune removes what a failure left behind.
      s3 = await startS3Server({ dir: s3Dir, buckets: [LOCAL_S3_BUCKET] });
      proxy.setTarget(s3.port);
      let cleaned = '';
      try {
        await assertStoredState(db, stores, stack.config, TENANT);
      } catch (err) {
        assert.ok(rows.every((r) => r.status === 'failed'), String(err));
        await runPrune({ db, config: stack.config, stores }, { dryRun: false });
        await assertStoredState(db, stores, stack.config, TENANT);
        cleaned = ', its leftover removed by the next prune';
      }
      return `stopped after ${stoppedAt >= threshold ? 'part of the upload' : 'the upload'} → ${o}${cleaned}`;
    });
  });

  it('S3 connections reset mid-upload', async () => {
    await runCase('S3 connections reset mid-upload', 'fault', async () => {
      const threshold = randomInt(256 * 1024, 5 * 1024 * 1024);
      let resets = 0;
      const { rows, error } = await backup(['s3_standard', 'b2_cold'], async (group) => {
        await running(group);
        const start = proxy.bytesUp();
        await waitUntil('bytes to flow', async () => proxy.bytesUp() - start >= threshold || (await db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, group))).every((r) => r.status !== 'running'), 30_000, 5);
        resets = proxy.resetAll();
      });
      const o = outcome(rows, error, /ECONNRESET|socket|network|closed|upload/i);
      await assertStoredState(db, stores, stack.config, TENANT);
      return `${resets > 0 ? 'reset mid-upload' : 'reset after the upload'} → ${o}`;
    });
  });

  it('S3 connections reset mid-download of a restore', async () => {
    const [done] = (await backup(['s3_standard'])).rows;
    assert.equal(done!.status, 'completed');
    const url = stack.config.DATABASE_URL;
    const backupFp = await fingerprint(url, `t_${TENANT}`);
    await runCase('S3 connections reset mid-download (restore)', 'fault', async (i) => {
      await db.execute(`insert into t_${TENANT}.notes values (${900_000 + i}, '\\x01')`);
      const live = await fingerprint(url, `t_${TENANT}`);
      const restore = await createRestore(db, { backupId: done!.id, mode: 'in_place', requestedBy: 'chaos' });
      const run = runRestore({ db, config: stack.config, stores }, restore.id).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      await waitUntil('the download', async () => (await db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id)))[0]!.phase !== 'starting', 30_000, 5);
      await sleep(randomInt(0, 150));
      const resets = proxy.resetAll();
      const error = await run;
      const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      if (row!.status === 'completed') {
        assert.equal(error, undefined);
        assert.deepEqual(await fingerprint(url, `t_${TENANT}`), backupFp);
        await db.execute(`drop schema "${row!.movedAsideSchema}" cascade`);
      } else {
        assert.equal(row!.status, 'failed');
        assert.doesNotMatch(row!.errorMessage!, /\n\s+at /);
        assert.deepEqual(await fingerprint(url, `t_${TENANT}`), live, 'a failed restore leaves the tenant exactly as it was');
      }
      return `${resets > 0 ? 'reset during the download' : 'reset after the download'} → restore ${row!.status}`;
    });
  });

  it('no secret in job errors or the audit log after these failures', async () => {
    assert.deepEqual(leakedSecrets(await catalogTexts(db), secretsOfEnv(stack.env)), []);
  });
});
