// Fault: a stored object corrupted at a random byte, truncated by a random length, deleted behind
// Strata's back, or encrypted to another key; and a temp dir without room for the download. The
// restore is refused before the live tenant is touched (fingerprint), and verify reports the same
// cause. (lib/restore/restore-failures.test.ts proves each refusal once in detail; this counts trials.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { download } from '../backup/test-support.ts';
import type { Db } from '../db/client.ts';
import { backupJobs, restoreJobs, type BackupJobRow } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import { parseConfig, type Config } from '../env.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { verifyBackup } from '../restore/verify.ts';
import { ensureAgeKeyPair } from '../services/age-keys.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { catalogTexts, leakedSecrets, randomInt, runCase, secretsOfEnv, strayRestoreSchemas } from './harness.ts';
import fs from 'node:fs';
import path from 'node:path';

const SCHEMA = 't_rr';

describe('damaged backups and no temp space: refused before the live tenant is touched', () => {
  let stack: TestStack;
  let db: Db;
  let stores: Stores;
  let url: string;
  before(async () => {
    stack = await startTestStack({ B2_PART_SIZE_MB: '5' });
    db = stack.db;
    url = stack.config.DATABASE_URL;
    stores = createStores(stack.config);
    await addTinyTenants(db, ['rr'], { plan: 'basic', rows: 400, rowBytes: 256 });
  });
  after(async () => {
    await stack?.stop();
  });

  async function freshBackup(tier: StorageTier, config: Config = stack.config): Promise<BackupJobRow> {
    const [row] = await createBackupGroup(db, { tenantId: 'rr', storageTiers: [tier], origin: 'manual', requestedBy: 'chaos' });
    await runBackupGroup({ db, config, stores: createStores(config) }, row!.dumpGroup);
    const [done] = await db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
    assert.equal(done!.status, 'completed');
    return done!;
  }

  /** Restores `b` in place (expecting a refusal matching `why`) and verifies it (expecting the same). */
  async function expectRefused(b: BackupJobRow, why: RegExp, config: Config = stack.config): Promise<string> {
    const before = await fingerprint(url, SCHEMA);
    const restore = await createRestore(db, { backupId: b.id, mode: 'in_place', requestedBy: 'chaos' });
    await assert.rejects(runRestore({ db, config, stores }, restore.id));
    const [row] = await db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
    assert.equal(row!.status, 'failed');
    assert.match(row!.errorMessage!, why);
    assert.equal(row!.movedAsideSchema, null);
    assert.deepEqual(await fingerprint(url, SCHEMA), before, 'the live tenant is exactly as it was');
    assert.deepEqual(await strayRestoreSchemas(db), []);
    const v = await verifyBackup({ db, config, stores }, b.id);
    assert.equal(v.status, 'failed');
    assert.match(v.errorMessage!, why, 'verify reports the same cause');
    await db.execute(sql`insert into t_rr.notes values (${10_000 + randomInt(0, 1e6)}, '\\x02') on conflict do nothing`);
    return 'restore refused, tenant untouched, verify failed with the cause';
  }

  const key = (b: BackupJobRow) => parseLocation(b.backupLocation!).key;
  const tierOf = (i: number): StorageTier => (i % 2 === 0 ? 's3_standard' : 'b2_cold');

  it('corrupted at a random byte', async () => {
    await runCase('Stored object corrupted (random byte)', 'fault', async (i) => {
      const b = await freshBackup(tierOf(i));
      const store = stores.forLocation(b.backupLocation!);
      const bytes = await download(store, key(b));
      bytes[randomInt(0, bytes.length - 1)] ^= 1 << randomInt(0, 7);
      await store.put(key(b), bytes);
      return `${tierOf(i)}: ${await expectRefused(b, /corrupt: sha256/)}`;
    });
  });

  it('truncated by a random length', async () => {
    await runCase('Stored object truncated (random length)', 'fault', async (i) => {
      const b = await freshBackup(tierOf(i));
      const store = stores.forLocation(b.backupLocation!);
      const bytes = await download(store, key(b));
      await store.put(key(b), bytes.subarray(0, randomInt(0, bytes.length - 1)));
      return `${tierOf(i)}: ${await expectRefused(b, /truncated: \d+ bytes/)}`;
    });
  });

  it('deleted behind Strata`s back', async () => {
    await runCase('Stored object deleted behind Strata’s back', 'fault', async (i) => {
      const b = await freshBackup(tierOf(i));
      await stores.forLocation(b.backupLocation!).delete(key(b));
      return `${tierOf(i)}: ${await expectRefused(b, /backup object not found/)}`;
    });
  });

  it('encrypted to another key', async () => {
    const other = ensureAgeKeyPair(path.join(stack.dir, 'other-age'), 'other');
    const foreign = parseConfig({ ...stack.env, BACKUP_ENCRYPTION_RECIPIENTS: other.recipient });
    await runCase('Backup encrypted to another key', 'fault', async (i) => {
      const b = await freshBackup(tierOf(i), foreign);
      return `${tierOf(i)}: ${await expectRefused(b, /no key in BACKUP_DECRYPTION_IDENTITY_FILE matches/)}`;
    });
  });

  it('not enough temp space: refused before any byte is downloaded', async () => {
    const b = await freshBackup('b2_cold');
    const tmp = stack.config.STRATA_TMP_DIR;
    await runCase('Not enough temp space (STRATA_TMP_MIN_FREE_MB huge)', 'fault', async () => {
      const config = parseConfig({ ...stack.env, STRATA_TMP_MIN_FREE_MB: String(randomInt(2, 9) * 1024 * 1024 * 1024) });
      const filesBefore = fs.readdirSync(tmp);
      const out = await expectRefused(b, /not enough free space in STRATA_TMP_DIR/, config);
      assert.deepEqual(fs.readdirSync(tmp), filesBefore, 'nothing was written to the temp dir');
      return out;
    });
  });

  it('no secret in the restore and verification errors', async () => {
    assert.deepEqual(leakedSecrets(await catalogTexts(db), secretsOfEnv(stack.env)), []);
  });
});
