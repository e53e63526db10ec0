// Round trips through both stores: in place, undo and clone are exact (fingerprint equal), and the
// restoring role's default privileges neither leak into restored objects nor change.
import { queryOnce } from '../testing/pg-env.ts';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { createStores } from '../storage/registry.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { createFixtureTenant, FIXTURE_SCHEMA, fingerprint, widenDefaultPrivileges, type Fingerprint } from '../testing/fixture-tenant.ts';
import { scratchDatabasesOf, startTestStack, type TestStack } from '../testing/stack.ts';
import { createRestore, createUndo } from './create.ts';
import { RestoreConflictError, RestoreNotFoundError, RestoreRequestError, UndoNotAllowedError } from './errors.ts';
import { runRestore, type RestoreContext } from './run-restore.ts';

const S = quoteIdent(FIXTURE_SCHEMA);

describe('restore round trips (S3 and B2)', () => {
  let stack: TestStack;
  let ctx: RestoreContext;
  let url: string;
  let original: Fingerprint;
  const backups: Record<string, BackupJobRow> = {};

  const exec = (text: string) => queryOnce(url, text);
  const defaultAcl = async () =>
    (await exec(`SELECT defaclrole::regrole::text, defaclobjtype, defaclacl::text FROM pg_default_acl WHERE defaclnamespace = 0 ORDER BY 1, 2, 3`)).rows;

  before(async () => {
    stack = await startTestStack();
    url = stack.config.DATABASE_URL;
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    await createFixtureTenant(url, { tenantId: 'acme' });
    // After the fixture: restored objects must not pick these up.
    await widenDefaultPrivileges(url, stack.restoreRole);
    original = await fingerprint(url, FIXTURE_SCHEMA);
    // One dump, stored in S3 and in B2.
    Object.assign(backups, await createTestBackups(ctx, 'acme', ['s3_standard', 'b2_cold']));
  });
  after(async () => {
    await stack?.stop();
  });

  for (const tier of ['s3_standard', 'b2_cold'] as const) {
    it(`in place, undo and clone are exact through ${tier}`, async () => {
      await exec(`
        DELETE FROM ${S}.events WHERE id % 3 = 0;
        UPDATE ${S}.samples SET n = 1;
        INSERT INTO ${S}.empty_things VALUES (1, 'now not empty');
        SELECT nextval('${S.replaceAll("'", "''")}.spare_seq');
        ALTER TABLE ${S}.legacy ADD COLUMN extra int;
        REFRESH MATERIALIZED VIEW ${S}.account_totals_later;`);
      const changed = await fingerprint(url, FIXTURE_SCHEMA);
      assert.notDeepEqual(changed, original);
      const aclBefore = await defaultAcl();

      const restore = await createRestore(stack.db, { backupId: backups[tier]!.id, mode: 'in_place', requestedBy: 'test' });
      assert.equal(restore.targetSchema, FIXTURE_SCHEMA);
      const done = await runRestore(ctx, restore.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.phase, 'completed');
      assert.match(done.movedAsideSchema!, /^strata_undo_[0-9a-f]{8}$/);
      const days = (done.undoExpiresAt!.getTime() - done.completedAt!.getTime()) / 86_400_000;
      assert.ok(Math.abs(days - stack.config.STRATA_UNDO_RETENTION_DAYS) < 0.01, `undo_expires_at is ${days} days after completion`);
      assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), original);
      assert.deepEqual(await fingerprint(url, done.movedAsideSchema!), changed, 'the moved-aside copy is the live tenant as it was');
      assert.deepEqual(await defaultAcl(), aclBefore, 'default privileges are unchanged');
      // Re-running a completed restore changes nothing.
      assert.deepEqual(await runRestore(ctx, restore.id), done);

      const undo = await createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' });
      const undoDone = await runRestore(ctx, undo.id);
      assert.equal(undoDone.status, 'completed');
      assert.match(undoDone.movedAsideSchema!, /^strata_undo_[0-9a-f]{8}$/);
      assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), changed);
      assert.deepEqual(await fingerprint(url, undoDone.movedAsideSchema!), original, 'the restored version is kept aside');
      const [undone] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      assert.equal(undone!.status, 'undone');
      await assert.rejects(createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' }), UndoNotAllowedError);

      const cloneName = `Clone ${tier} "ü"`;
      const clone = await createRestore(stack.db, { backupId: backups[tier]!.id, mode: 'clone', targetSchema: cloneName, requestedBy: 'test' });
      assert.equal((await runRestore(ctx, clone.id)).status, 'completed');
      assert.deepEqual(await fingerprint(url, cloneName), original, 'the clone is exact, foreign keys into public included');
      assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), changed, 'a clone never touches the live tenant');

      // Put the original back for the next store's pass.
      await exec(`DROP SCHEMA ${S} CASCADE; ALTER SCHEMA ${quoteIdent(undoDone.movedAsideSchema!)} RENAME TO ${S}`);
    });
  }

  it('a row left running by a dead worker runs again and completes', async () => {
    const restore = await createRestore(stack.db, { backupId: backups.s3_standard!.id, mode: 'in_place', requestedBy: 'test' });
    await stack.db.update(restoreJobs).set({ status: 'running', phase: 'swapping', startedAt: new Date() }).where(eq(restoreJobs.id, restore.id));
    await assert.rejects(
      createRestore(stack.db, { backupId: backups.s3_standard!.id, mode: 'in_place', requestedBy: 'test' }),
      RestoreConflictError,
    );
    const done = await runRestore(ctx, restore.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), original);
    assert.deepEqual(await scratchDatabasesOf(stack.db, [restore.id]), [], 'scratch databases are dropped');
  });

  it('validates requests, and undoes only the latest restore while its copy exists', async () => {
    const backupId = backups.s3_standard!.id;
    const req = { requestedBy: 'test' };
    const field = (name: string) => (e: unknown) => e instanceof RestoreRequestError && e.field === name;
    await assert.rejects(createRestore(stack.db, { ...req, backupId: 'not-a-uuid', mode: 'in_place' }), field('backup_id'));
    await assert.rejects(createRestore(stack.db, { ...req, backupId: randomUUID(), mode: 'in_place' }), RestoreNotFoundError);
    await assert.rejects(createRestore(stack.db, { ...req, backupId, mode: 'clone', targetSchema: 'ü'.repeat(32) }), field('target_schema'));
    await assert.rejects(createRestore(stack.db, { ...req, backupId, mode: 'clone', targetSchema: FIXTURE_SCHEMA }), field('target_schema'));
    await assert.rejects(createRestore(stack.db, { ...req, backupId, mode: 'clone', targetSchema: 'public' }), field('target_schema'));
    await assert.rejects(createRestore(stack.db, { ...req, backupId, mode: 'clone' }), field('target_schema'));
    await assert.rejects(
      createRestore(stack.db, { ...req, backupId, mode: 'in_place', targetTenantId: 'nobody', crossTenant: true }),
      RestoreNotFoundError,
    );

    const first = await runRestore(ctx, (await createRestore(stack.db, { ...req, backupId, mode: 'in_place' })).id);
    const second = await runRestore(ctx, (await createRestore(stack.db, { ...req, backupId, mode: 'in_place' })).id);
    assert.equal(second.status, 'completed');
    await assert.rejects(createUndo(stack.db, { ...req, restoreId: first.id }), /only the latest can be undone/);
    await exec(`DROP SCHEMA ${quoteIdent(second.movedAsideSchema!)} CASCADE`);
    await assert.rejects(createUndo(stack.db, { ...req, restoreId: second.id }), /no longer exists/);
    assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), original);
  });
});
