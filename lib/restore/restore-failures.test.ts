// Every way a restore fails or is refused leaves the live tenant identical (fingerprint) and says why.
import { queryOnce } from '../testing/pg-env.ts';
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { ensureAgeKeyPair } from '../services/age-keys.ts';
import { createStores } from '../storage/registry.ts';
import { parseLocation } from '../storage/types.ts';
import { createTestBackup } from '../testing/fixture-backup.ts';
import { createFixtureTenant, fingerprint, type Fingerprint } from '../testing/fixture-tenant.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { createRestore } from './create.ts';
import {
  BackupObjectMissingError,
  CorruptBackupError,
  DependentObjectsError,
  MissingPrerequisitesError,
  NotEnoughSpaceError,
  ReplayFailedError,
  RestoreError,
  RestoreRequestError,
  SchemaTextReferenceError,
  TruncatedBackupError,
  WrongKeyError,
} from './errors.ts';
import { fetchVerifiedDump } from './fetch.ts';
import { readManifest } from './manifest.ts';
import { replayDump } from './replay.ts';
import { replayRole } from './replay-role.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';
import { runRestore, type RestoreContext } from './run-restore.ts';

const SCHEMA = 'Live "Tenant" Ärger';
const S = quoteIdent(SCHEMA);

describe('restore failures leave the live tenant untouched', () => {
  let stack: TestStack;
  let ctx: RestoreContext;
  let url: string;
  let backup: BackupJobRow;
  let live: Fingerprint;

  const exec = (text: string) => queryOnce(url, text);
  const objectBytes = async (row: BackupJobRow) => {
    const store = ctx.stores.forLocation(row.backupLocation!);
    const chunks: Buffer[] = [];
    for await (const c of await store.get(parseLocation(row.backupLocation!).key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const replaceObject = async (row: BackupJobRow, body: Buffer) =>
    ctx.stores.forLocation(row.backupLocation!).put(parseLocation(row.backupLocation!).key, body);

  /** Runs an in-place restore of `b` that must fail with `type`; checks the row and the live tenant. */
  async function expectFailure(b: BackupJobRow, type: new (...a: never[]) => RestoreError, pattern: RegExp, c = ctx) {
    const restore = await createRestore(stack.db, { backupId: b.id, mode: 'in_place', requestedBy: 'test' });
    const err = await runRestore(c, restore.id).then(
      () => assert.fail('the restore should have failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error).name}: ${(err as Error).message}`);
    assert.match((err as Error).message, pattern);
    const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
    assert.equal(row!.status, 'failed');
    assert.match(row!.errorMessage!, pattern);
    assert.ok(!row!.errorMessage!.includes(new URL(url).password), 'no password in the error');
    assert.equal(row!.movedAsideSchema, null);
    assert.deepEqual(await fingerprint(url, SCHEMA), live, 'the live tenant is exactly as it was');
    const aside = await exec(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'strata\\_%'`);
    assert.deepEqual(aside.rows, [], 'no moved-aside or probe schema is left behind');
    return err as RestoreError;
  }

  before(async () => {
    stack = await startTestStack();
    url = stack.config.DATABASE_URL;
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    await createFixtureTenant(url, { tenantId: 'live', schemaName: SCHEMA, rows: 5000 });
    backup = await createTestBackup(ctx, 'live', 's3_standard');
    // The live tenant moves on after the backup: a restore that half-happened would show.
    // (A materialized view comes back refreshed — pg_dump stores REFRESH, not rows — so keep it fresh.)
    await exec(`DELETE FROM ${S}.events WHERE id % 2 = 0; UPDATE ${S}.accounts SET name = 'changed' WHERE id % 7 = 0;
      REFRESH MATERIALIZED VIEW ${S}.account_totals;`);
  });
  beforeEach(async () => {
    live = await fingerprint(url, SCHEMA);
  });
  after(async () => {
    await stack?.stop();
  });

  it('corrupt object (sha256 mismatch)', async () => {
    const b = await createTestBackup(ctx, 'live');
    const bytes = await objectBytes(b);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await replaceObject(b, bytes);
    const err = await expectFailure(b, CorruptBackupError, /corrupt: sha256 [0-9a-f]{64}, the manifest says/);
    assert.equal(err.reason, 'corrupt');
  });

  it('truncated object (size mismatch)', async () => {
    const b = await createTestBackup(ctx, 'live', 'b2_cold');
    const bytes = await objectBytes(b);
    await replaceObject(b, bytes.subarray(0, bytes.length - 1000));
    const err = await expectFailure(b, TruncatedBackupError, /truncated: \d+ bytes, the manifest says \d+/);
    assert.equal(err.reason, 'truncated');
  });

  it('missing object', async () => {
    const b = await createTestBackup(ctx, 'live');
    await ctx.stores.forLocation(b.backupLocation!).delete(parseLocation(b.backupLocation!).key);
    const err = await expectFailure(b, BackupObjectMissingError, /backup object not found: s3:\/\//);
    assert.equal(err.reason, 'missing');
  });

  it('a failure the job queue will retry leaves the row running for the queue, never failed; the last attempt fails it', async () => {
    const b = await createTestBackup(ctx, 'live');
    await ctx.stores.forLocation(b.backupLocation!).delete(parseLocation(b.backupLocation!).key);
    const restore = await createRestore(stack.db, { backupId: b.id, mode: 'in_place', requestedBy: 'test' });
    const asked: Error[] = [];
    await assert.rejects(runRestore({ ...ctx, willRetry: (err) => asked.push(err) > 0 }, restore.id), BackupObjectMissingError);
    assert.equal(asked.length, 1);
    const rowNow = async () => (await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id)))[0]!;
    assert.deepEqual([(await rowNow()).status, (await rowNow()).errorMessage], ['running', null]);
    assert.deepEqual(await fingerprint(url, SCHEMA), live, 'the live tenant is exactly as it was');
    await assert.rejects(runRestore(ctx, restore.id), BackupObjectMissingError);
    assert.equal((await rowNow()).status, 'failed');
    assert.match((await rowNow()).errorMessage!, /backup object not found/);
  });

  it('wrong decryption key', async () => {
    const other = ensureAgeKeyPair(path.join(stack.dir, 'other-age'), 'other');
    const config = parseConfig({ ...stack.env, BACKUP_DECRYPTION_IDENTITY_FILE: other.identityFile });
    const err = await expectFailure(backup, WrongKeyError, /no key in BACKUP_DECRYPTION_IDENTITY_FILE matches/, { ...ctx, config });
    assert.equal(err.reason, 'wrong_key');
  });

  it('not enough temp space: refused before downloading', async () => {
    const config = parseConfig({ ...stack.env, STRATA_TMP_MIN_FREE_MB: String(1024 * 1024 * 1024) });
    const err = await expectFailure(backup, NotEnoughSpaceError, /not enough free space in STRATA_TMP_DIR/, { ...ctx, config });
    assert.equal(err.reason, 'no_space');
  });

  it('pg_restore failing mid-way (a foreign key into public no longer satisfied) rolls back', async () => {
    // The live tenant no longer references the plan; the backup does.
    await exec(`ALTER TABLE ${S}.accounts DROP CONSTRAINT accounts_plan_fkey; DELETE FROM public.fx_plans WHERE code = 'team';`);
    live = await fingerprint(url, SCHEMA);
    try {
      await expectFailure(backup, ReplayFailedError, /violates foreign key constraint "accounts_plan_fkey".*rolled back/);
    } finally {
      await exec(`INSERT INTO public.fx_plans VALUES ('team', 'Team');
        ALTER TABLE ${S}.accounts ADD CONSTRAINT accounts_plan_fkey FOREIGN KEY (plan) REFERENCES public.fx_plans (code);`);
    }
  });

  it('a role the dump needs is missing: refused before touching anything, naming it', async () => {
    await exec(`CREATE ROLE strata_fx_gone NOLOGIN; CREATE TABLE ${S}.gone_owner (id int); ALTER TABLE ${S}.gone_owner OWNER TO strata_fx_gone;`);
    const b = await createTestBackup(ctx, 'live');
    await exec(`DROP TABLE ${S}.gone_owner; DROP ROLE strata_fx_gone;`);
    live = await fingerprint(url, SCHEMA);
    const err = await expectFailure(b, MissingPrerequisitesError, /lacks what the backup needs: role "strata_fx_gone" does not exist/);
    assert.equal(err.reason, 'prerequisites');
  });

  it('objects in other schemas depending on the tenant: refused, naming them', async () => {
    await exec(`CREATE VIEW public.fx_report AS SELECT count(*) AS n FROM ${S}.accounts;
      CREATE TABLE public.fx_links (account_id bigint REFERENCES ${S}.accounts (id));`);
    live = await fingerprint(url, SCHEMA);
    try {
      const err = (await expectFailure(backup, DependentObjectsError, /view fx_report/)) as DependentObjectsError;
      assert.match(err.message, /constraint fx_links_account_id_fkey on table fx_links/);
    } finally {
      await exec(`DROP VIEW public.fx_report; DROP TABLE public.fx_links;`);
    }
  });

  it('a dependent created after the check still aborts the swap, inside its transaction', async () => {
    const store = ctx.stores.forLocation(backup.backupLocation!);
    const manifest = await readManifest(store, backup.backupLocation!);
    const fetched = await fetchVerifiedDump({ store, location: backup.backupLocation!, manifest, config: stack.config, owner: { kind: 'verify', jobKey: backup.id } });
    await exec(`CREATE VIEW public.fx_late AS SELECT id FROM ${S}.legacy`);
    try {
      await assert.rejects(
        replayDump({
          config: stack.config,
          role: await replayRole(stack.config),
          dumpPath: fetched.dumpPath,
          moveAside: { live: SCHEMA, aside: 'strata_undo_0badc0de' },
        }),
        (e: unknown) => e instanceof ReplayFailedError && /depend on the live schema: view fx_late/.test(e.message),
      );
      assert.deepEqual(await fingerprint(url, SCHEMA), live);
    } finally {
      await exec(`DROP VIEW public.fx_late`);
      await fetched.cleanup();
    }
  });

  it('clone and cross-tenant refused when functions name the source schema in text', async () => {
    // Created by the application's role, like every tenant object (a replay role cannot give objects to a superuser).
    await exec(`SET ROLE ${TENANT_OWNER_ROLE};
      CREATE FUNCTION ${S}.count_accounts() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM ${S}.accounts $$;
      CREATE FUNCTION ${S}.pinned() RETURNS int LANGUAGE sql SET search_path = ${S} AS $$ SELECT 1 $$;
      RESET ROLE;`);
    const b = await createTestBackup(ctx, 'live');
    await exec(`DROP FUNCTION ${S}.count_accounts(); DROP FUNCTION ${S}.pinned();`);
    const clone = await createRestore(stack.db, { backupId: b.id, mode: 'clone', targetSchema: 'copy_of_live', requestedBy: 'test' });
    const err = await runRestore(ctx, clone.id).catch((e: unknown) => e as Error);
    assert.ok(err instanceof SchemaTextReferenceError, String(err));
    assert.match(err.message, /count_accounts\(\), pinned\(\)/);
    const exists = await exec(`SELECT 1 FROM pg_namespace WHERE nspname = 'copy_of_live'`);
    assert.equal(exists.rowCount, 0);

    await createFixtureTenant(url, { tenantId: 'other', schemaName: 'other_tenant', rows: 10 });
    const otherBefore = await fingerprint(url, 'other_tenant');
    await assert.rejects(
      createRestore(stack.db, { backupId: b.id, mode: 'in_place', targetTenantId: 'other', requestedBy: 'test' }),
      (e: unknown) => e instanceof RestoreRequestError && e.field === 'cross_tenant',
    );
    const cross = await createRestore(stack.db, { backupId: b.id, mode: 'in_place', targetTenantId: 'other', crossTenant: true, requestedBy: 'test' });
    await assert.rejects(runRestore(ctx, cross.id), SchemaTextReferenceError);
    assert.deepEqual(await fingerprint(url, 'other_tenant'), otherBefore);
    assert.deepEqual(await fingerprint(url, SCHEMA), live);
  });

  it('cross-tenant restore overwrites the target tenant exactly with the other tenant`s backup', async () => {
    const source = await createTestBackup(ctx, 'live');
    const sourceFp = await fingerprint(url, SCHEMA);
    const cross = await createRestore(stack.db, { backupId: source.id, mode: 'in_place', targetTenantId: 'other', crossTenant: true, requestedBy: 'test' });
    assert.equal(cross.targetSchema, 'other_tenant');
    const done = await runRestore(ctx, cross.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(await fingerprint(url, 'other_tenant'), sourceFp);
    assert.deepEqual(await fingerprint(url, SCHEMA), live, 'the source tenant is untouched');
  });
});
