// issue 13: a bucket attacker with only the store keys cannot get code run, data changed or a backup
// planted. The forgeries are consistent (checksums and sizes agree with the forged dump, encrypted to
// the recipients every manifest names) and their replay WOULD create the canaries (checked first, in a
// throwaway database): a file via COPY … TO PROGRAM, a table in `public`, an UPDATE of users. Verify,
// the drill, restore and catalog rebuild all refuse them, through S3 and B2; the canaries never appear;
// the audit log names each refusal; the tenant stays as it was. Each forgery is a case of the
// reliability suite (harness.ts runCase: TRIALS trials, each on fresh backups in S3 and B2; the
// README's Reliability table).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { pgTestEnv, queryOnce } from '../testing/pg-env.ts';
import { SIGNATURE_OBJECT } from '../backup/manifest.ts';
import { generateSigningKeyPair, loadSigningKey, signManifest, verifyKeysOf } from '../backup/signing.ts';
import { download, sha256 } from '../backup/test-support.ts';
import { rebuildCatalog } from '../catalog/rebuild.ts';
import { auditLog, backupJobs, restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { parseLocation, type ObjectStore } from '../storage/types.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { fingerprint, type Fingerprint } from '../testing/fixture-tenant.ts';
import { createDatabase, dropDatabase, startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';
import { createRestore } from '../restore/create.ts';
import { runRestore } from '../restore/run-restore.ts';
import { verifyBackup } from '../restore/verify.ts';
import { runCase } from './harness.ts';

const TIERS = ['s3_standard', 'b2_cold'] as const;

function run(command: string, args: string[], input?: Buffer, env?: NodeJS.ProcessEnv): Buffer {
  const res = spawnSync(command, args, { input, env, maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${command} failed (${res.status}): ${res.stderr?.toString()}`);
  return res.stdout;
}

describe('a bucket attacker with only the store keys', () => {
  let stack: TestStack;
  let stores: Stores;
  let ctx: { db: TestStack['db']; config: TestStack['config']; stores: Stores };
  let canaryFile: string;
  let evilDump: Buffer;
  let outsideDump: Buffer;
  let acmeBefore: Fingerprint;
  const forged: { location: string; reason: RegExp }[] = [];

  const adminUrl = () => stack.urlFor('postgres');
  const query = (url: string, text: string) => queryOnce(url, text);
  const pgDump = (database: string, args: string[]) =>
    run('pg_dump', ['-Fc', '-Z0', '--no-password', ...args], undefined, pgTestEnv(adminUrl(), database));

  /** A dump of schema `acme` made in its own database, whose replay anywhere else trips the canaries. */
  async function forgeDump(name: string, extraSql = '', extraArgs: string[] = []): Promise<Buffer> {
    await createDatabase(adminUrl(), name);
    try {
      await query(
        stack.urlFor(name),
        `CREATE SCHEMA acme;
         CREATE FUNCTION acme.evil() RETURNS boolean LANGUAGE plpgsql AS $f$
         BEGIN
           IF current_database() <> ${`'${name}'`} THEN
             EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch ' || ${`'${canaryFile}'`});
             CREATE TABLE IF NOT EXISTS public.strata_canary (at timestamptz DEFAULT now());
             IF to_regclass('public.users') IS NOT NULL THEN UPDATE public.users SET role = 'pwned'; END IF;
           END IF;
           RETURN true;
         END $f$;
         CREATE TABLE acme.patients (id int PRIMARY KEY, CHECK (acme.evil()));
         INSERT INTO acme.patients VALUES (1);
         ${extraSql}`,
      );
      return pgDump(name, ['-n', 'acme', ...extraArgs]);
    } finally {
      await dropDatabase(adminUrl(), name);
    }
  }

  const keyOf = (row: BackupJobRow) => parseLocation(row.backupLocation!).key;
  const prefixOf = (row: BackupJobRow) => keyOf(row).replace(/dump\.zst\.age$/, '');
  const storeOf = (row: BackupJobRow): ObjectStore => stores.forLocation(row.backupLocation!);

  /** Replaces the backup's dump and manifest with a consistent forgery of `dump`; returns the manifest bytes. */
  async function plant(row: BackupJobRow, dump: Buffer): Promise<Buffer> {
    const store = storeOf(row);
    const stored = run('age', stack.config.BACKUP_ENCRYPTION_RECIPIENTS.flatMap((r) => ['-r', r]), run('zstd', ['-q', '-c'], dump));
    const manifest = JSON.parse((await download(store, `${prefixOf(row)}manifest.json`)).toString('utf8'));
    Object.assign(manifest.backup, {
      sha256_stored: sha256(stored),
      backup_size_bytes: stored.length,
      sha256_dump: sha256(dump),
      dump_size_bytes: dump.length,
    });
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await store.put(keyOf(row), stored);
    await store.put(`${prefixOf(row)}manifest.json`, bytes);
    return bytes;
  }

  const canaries = async () => ({
    file: fs.existsSync(canaryFile),
    table: (await query(stack.config.DATABASE_URL, `SELECT to_regclass('public.strata_canary') IS NOT NULL AS t`)).rows[0].t as boolean,
    pwned: Number((await query(stack.config.DATABASE_URL, `SELECT count(*) FROM users WHERE role = 'pwned'`)).rows[0].count),
    outside: (await query(stack.config.DATABASE_URL, `SELECT to_regclass('public.toc_canary') IS NOT NULL AS t`)).rows[0].t as boolean,
  });
  const noCanary = { file: false, table: false, pwned: 0, outside: false };

  /**
   * verify, the drill (even with allow-unsigned), and restore in place (even with allow-unsigned) all
   * refuse. Each reads exactly this copy (exactCopy): the attacker replaced exactly this one, and the
   * cheapest copy of the backup point to read could be another.
   */
  async function assertEveryReaderRefuses(row: BackupJobRow, reason: RegExp): Promise<void> {
    const where = `${row.storageTier} backup ${row.id}`;
    const v = await verifyBackup(ctx, row.id, { requestedBy: 'test', exactCopy: true });
    assert.equal(v.status, 'failed', `${where}: verify must refuse`);
    assert.match(v.errorMessage ?? '', new RegExp(`refused backup ${row.id}`));
    assert.match(v.errorMessage ?? '', reason);
    const drill = await verifyBackup(ctx, row.id, { isDrill: true, requestedBy: 'drill', allowUnsigned: true, exactCopy: true });
    assert.equal(drill.status, 'failed', `${where}: the drill must refuse`);
    assert.match(drill.errorMessage ?? '', reason);
    for (const allowUnsigned of [false, true]) {
      const restore = await createRestore(stack.db, { backupId: row.id, mode: 'in_place', requestedBy: 'test', allowUnsigned, exactCopy: true });
      await assert.rejects(runRestore(ctx, restore.id), (err: Error) => {
        assert.match(err.message, new RegExp(`refused backup ${row.id}`));
        assert.match(err.message, reason);
        return true;
      });
      const [after] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      assert.equal(after!.status, 'failed');
    }
    const audited = await stack.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'backup.refused'), sql`${auditLog.details} ->> 'backup_id' = ${row.id}`));
    assert.ok(audited.length >= 4, `${where}: every refusal is audited (${audited.length})`);
    assert.ok(audited.every((a) => a.target === 'acme' && reason.test(String((a.details as { error: string }).error))));
    forged.push({ location: `${row.backupLocation!.replace(/dump\.zst\.age$/, '')}manifest.json`, reason: /./ });
  }

  /**
   * One forgery as a case: each trial takes fresh genuine backups of acme in S3 and B2, forges each, and
   * checks that every reader refuses it, the canaries stay absent and acme stays exactly as it was.
   */
  function forgeryCase(name: string, reason: RegExp, forge: (row: BackupJobRow) => Promise<void>) {
    return runCase(name, 'abuse', async () => {
      const outcomes: string[] = [];
      for (const row of Object.values(await createTestBackups(ctx, 'acme', [...TIERS]))) {
        await forge(row);
        await assertEveryReaderRefuses(row, reason);
        outcomes.push(`${row.storageTier}: verify, drill and restore refused and audited`);
      }
      assert.deepEqual(await canaries(), noCanary);
      assert.deepEqual(await fingerprint(stack.config.DATABASE_URL, 'acme'), acmeBefore, 'tenant A is untouched');
      return outcomes;
    });
  }

  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
    ctx = { db: stack.db, config: stack.config, stores };
    // COPY … TO PROGRAM runs as the server's OS user: the canary lives in a directory it can write.
    const canaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-canary-'));
    fs.chmodSync(canaryDir, 0o777);
    canaryFile = path.join(canaryDir, 'canary-file');
    await createDemoTenant(stack.db, { id: 'acme', name: 'Acme', schemaName: 'acme', plan: 'premium', patients: 40 });
    await createDemoTenant(stack.db, { id: 'beta', name: 'Beta', schemaName: 'beta', plan: 'premium', patients: 20 });
    await query(stack.config.DATABASE_URL, `INSERT INTO users (email, role) VALUES ('ops@example.com', 'admin')`);
    evilDump = await forgeDump(`forge_${process.pid}`);
    outsideDump = await forgeDump(`forge_out_${process.pid}`, 'CREATE TABLE public.toc_canary (id int);', ['-n', 'public']);

    // Control: the forged dump really does trip the canaries when replayed without Strata's checks.
    const control = `control_${process.pid}`;
    await createDatabase(adminUrl(), control);
    try {
      run('pg_restore', ['--no-password', '-d', control], evilDump, pgTestEnv(adminUrl()));
      assert.ok(fs.existsSync(canaryFile), 'control: the forged dump runs a program when replayed');
      assert.equal((await query(stack.urlFor(control), `SELECT to_regclass('public.strata_canary') IS NOT NULL AS t`)).rows[0].t, true);
    } finally {
      await dropDatabase(adminUrl(), control);
      fs.rmSync(canaryFile, { force: true });
    }
    acmeBefore = await fingerprint(stack.config.DATABASE_URL, 'acme');
  });
  after(async () => {
    if (canaryFile) fs.rmSync(path.dirname(canaryFile), { recursive: true, force: true });
    await stack?.stop();
  });

  it('replaces dump and manifest, leaving the genuine signature: refused (signature does not verify)', async () => {
    await forgeryCase('Bucket forgery: dump and manifest replaced, genuine signature left', /signature does not verify/, async (row) => {
      await plant(row, evilDump);
    });
  });

  it('replaces dump and manifest and removes the signature: refused (unsigned), even with allow-unsigned', async () => {
    await forgeryCase(
      'Bucket forgery: dump and manifest replaced, signature removed',
      /signature manifest\.json\.sig is missing, though the backup was signed/,
      async (row) => {
        await plant(row, evilDump);
        await storeOf(row).delete(`${prefixOf(row)}${SIGNATURE_OBJECT}`);
      },
    );
  });

  it('signs the forged manifest with a key of its own: refused (unknown key)', async () => {
    const attacker = generateSigningKeyPair();
    const keyFile = path.join(stack.dir, 'attacker.pem');
    fs.writeFileSync(keyFile, attacker.privatePem, { mode: 0o600 });
    await forgeryCase('Bucket forgery: manifest signed with an unknown key', /does not verify with any key of STRATA_VERIFY_KEYS/, async (row) => {
      const bytes = await plant(row, evilDump);
      await storeOf(row).put(`${prefixOf(row)}${SIGNATURE_OBJECT}`, signManifest(bytes, loadSigningKey(keyFile)));
    });
  });

  it('removes the signature of a genuine backup: refused', async () => {
    await forgeryCase('Bucket forgery: signature of a genuine backup removed', /signature manifest\.json\.sig is missing/, async (row) => {
      await storeOf(row).delete(`${prefixOf(row)}${SIGNATURE_OBJECT}`);
    });
  });

  it("puts tenant B's genuine signed backup under tenant A's prefix: refused (does not match the catalog)", async () => {
    await forgeryCase("Bucket forgery: tenant B's genuine signed backup under tenant A's prefix", /does not match the catalog: the manifest describes backup/, async (row) => {
      const tier = row.storageTier as (typeof TIERS)[number];
      const source = (await createTestBackups(ctx, 'beta', [tier]))[tier]!;
      for (const name of ['dump.zst.age', 'manifest.json', SIGNATURE_OBJECT]) {
        await storeOf(row).put(`${prefixOf(row)}${name}`, await download(storeOf(source), `${prefixOf(source)}${name}`));
      }
      // And as a backup of its own under A's prefix (B's id): catalog rebuild must not take it in.
      const planted = `${prefixOf(source).replace('backups/beta/', 'backups/acme/')}`;
      for (const name of ['dump.zst.age', 'manifest.json', SIGNATURE_OBJECT]) {
        await storeOf(row).put(`${planted}${name}`, await download(storeOf(source), `${prefixOf(source)}${name}`));
      }
      forged.push({ location: storeOf(row).location(`${planted}manifest.json`), reason: /claims tenant "beta", its key is under tenant "acme"/ });
    });
  });

  it('catalog rebuild rejects every forgery, names the reason, audits it, and adds no row', async () => {
    const rowsBefore = (await stack.db.select({ id: backupJobs.id }).from(backupJobs)).length;
    const result = await rebuildCatalog(stack.db, stores, { verifyKeys: verifyKeysOf(stack.config) });
    for (const f of forged) {
      const hit = result.rejected.find((r) => r.location === f.location);
      assert.ok(hit, `rejected: ${f.location} (got ${JSON.stringify(result.rejected)})`);
      assert.match(hit.reason, f.reason);
    }
    assert.equal(result.rejected.length, forged.length, JSON.stringify(result.rejected));
    assert.equal(result.added, 0);
    assert.equal((await stack.db.select({ id: backupJobs.id }).from(backupJobs)).length, rowsBefore);
    const audited = await stack.db.select().from(auditLog).where(and(eq(auditLog.action, 'backup.refused'), sql`${auditLog.details} ->> 'reason' like 'catalog rebuild:%'`));
    assert.equal(audited.length, forged.length);
    assert.deepEqual(await canaries(), noCanary);
  });

  it('a signed dump with an entry outside the tenant schema is refused before replay, naming the entry', async () => {
    const signingKey = loadSigningKey(stack.config.STRATA_SIGNING_KEY_FILE!);
    await runCase('Signed dump with an entry outside the tenant schema', 'abuse', async () => {
      const outcomes: string[] = [];
      for (const row of Object.values(await createTestBackups(ctx, 'acme', [...TIERS]))) {
        // As if the worker itself had signed it: the signature and the catalog agree with the dump.
        const bytes = await plant(row, outsideDump);
        await storeOf(row).put(`${prefixOf(row)}${SIGNATURE_OBJECT}`, signManifest(bytes, signingKey));
        const m = JSON.parse(bytes.toString('utf8'));
        await stack.db
          .update(backupJobs)
          .set({ sha256Stored: m.backup.sha256_stored, sha256Dump: m.backup.sha256_dump, backupSizeBytes: m.backup.backup_size_bytes, dumpSizeBytes: m.backup.dump_size_bytes })
          .where(eq(backupJobs.id, row.id));
        const v = await verifyBackup(ctx, row.id, { requestedBy: 'test', exactCopy: true });
        assert.equal(v.status, 'failed');
        assert.match(v.errorMessage ?? '', /refused before any replay: .* holds entries outside schema "acme": .*TABLE "public"\.toc_canary/);
        const restore = await createRestore(stack.db, { backupId: row.id, mode: 'in_place', requestedBy: 'test', exactCopy: true });
        await assert.rejects(runRestore(ctx, restore.id), /TABLE "public"\.toc_canary/);
        const audited = await stack.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.action, 'backup.refused'), sql`${auditLog.details} ->> 'backup_id' = ${row.id}`, sql`${auditLog.details} ->> 'reason' = 'foreign_entry'`));
        assert.equal(audited.length, 2);
        outcomes.push(`${row.storageTier}: verify and restore refused before replay, entry named, audited`);
      }
      assert.deepEqual(await canaries(), noCanary);
      assert.deepEqual(await fingerprint(stack.config.DATABASE_URL, 'acme'), acmeBefore, 'tenant A is untouched');
      return outcomes;
    });
  });

  it('a backup from before signing: used only with the admin confirmation; rebuilt only with --trust-unsigned, as unsigned', async () => {
    const { s3_standard: row } = await createTestBackups(ctx, 'acme', ['s3_standard']);
    // What a backup taken before signing looks like: no signature, and the catalog does not know either way.
    await storeOf(row!).delete(`${prefixOf(row!)}${SIGNATURE_OBJECT}`);
    await stack.db.update(backupJobs).set({ signed: null }).where(eq(backupJobs.id, row!.id));
    const refused = await verifyBackup(ctx, row!.id, { requestedBy: 'test' });
    assert.equal(refused.status, 'failed');
    assert.match(refused.errorMessage ?? '', /unsigned .*--allow-unsigned/);
    const drill = await verifyBackup(ctx, row!.id, { isDrill: true, allowUnsigned: true, requestedBy: 'drill' });
    assert.equal(drill.status, 'failed', 'a drill never uses an unsigned backup');
    const confirmed = await verifyBackup(ctx, row!.id, { requestedBy: 'admin', allowUnsigned: true });
    assert.equal(confirmed.status, 'passed', confirmed.errorMessage ?? '');

    await stack.db.delete(backupJobs).where(eq(backupJobs.id, row!.id));
    const strict = await rebuildCatalog(stack.db, stores, { verifyKeys: verifyKeysOf(stack.config) });
    assert.ok(strict.rejected.some((r) => r.location.endsWith(`${row!.id}/manifest.json`) && /unsigned/.test(r.reason)));
    assert.equal((await stack.db.select().from(backupJobs).where(eq(backupJobs.id, row!.id))).length, 0);
    const logged: string[] = [];
    const trusting = await rebuildCatalog(stack.db, stores, { verifyKeys: verifyKeysOf(stack.config), trustUnsigned: true, log: (m) => logged.push(m) });
    assert.ok(trusting.trusted_unsigned >= 1);
    assert.ok(logged.some((m) => /^WARNING: --trust-unsigned/.test(m)));
    const [back] = await stack.db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
    assert.equal(back?.signed, false, 'recorded as unsigned');
    // A signature that does not verify is refused even when trusting unsigned manifests.
    assert.ok(trusting.rejected.some((r) => /does not verify/.test(r.reason)));
  });
});
