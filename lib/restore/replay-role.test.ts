// Who replays a dump: a superuser (or a member of one) is refused before anything is touched unless
// STRATA_ALLOW_SUPERUSER_RESTORE=1; the stack's replay role (not a superuser) restores, verifies and
// undoes; the replay really connects with STRATA_RESTORE_DATABASE_URL.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { parseConfig } from '../env.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { createStores } from '../storage/registry.ts';
import { createTestBackup } from '../testing/fixture-backup.ts';
import { fingerprint, type Fingerprint } from '../testing/fixture-tenant.ts';
import { scratchDatabasesOf, startTestStack, type TestStack } from '../testing/stack.ts';
import { createRestore, createUndo } from './create.ts';
import { inspectRole, replayRoleRefusal, UnsafeReplayRoleError } from './replay-role.ts';
import { runRestore } from './run-restore.ts';
import { verifyBackup } from './verify.ts';

const SCHEMA = 't_rr';

describe('the replay role', () => {
  let stack: TestStack;
  let backup: BackupJobRow;
  let live: Fingerprint;
  let superuserEnv: Record<string, string>;
  const change = () => stack.db.execute(sql.raw(`insert into ${SCHEMA}.notes values (${Math.floor(Math.random() * 1e9) + 1000}, '\\x00')`));

  before(async () => {
    stack = await startTestStack();
    await addTinyTenants(stack.db, ['rr'], { plan: 'basic', rows: 50 });
    backup = await createTestBackup({ db: stack.db, config: stack.config, stores: createStores(stack.config) }, 'rr');
    await change();
    live = await fingerprint(stack.config.DATABASE_URL, SCHEMA);
    // STRATA_RESTORE_DATABASE_URL unset: DATABASE_URL's role replays, the stack's superuser.
    const { STRATA_RESTORE_DATABASE_URL: _, ...rest } = stack.env;
    superuserEnv = rest;
  });
  after(async () => {
    await stack?.stop();
  });

  it('a superuser is refused (restore, undo, verify) with the reason and the setting, the tenant untouched', async () => {
    const config = parseConfig(superuserEnv);
    const ctx = { db: stack.db, config, stores: createStores(config) };
    const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
    const err = await runRestore(ctx, restore.id).catch((e: unknown) => e as Error);
    assert.ok(err instanceof UnsafeReplayRoleError, String(err));
    assert.match(err.message, /replay role "postgres" is a superuser.*forged dump.*STRATA_RESTORE_DATABASE_URL.*STRATA_ALLOW_SUPERUSER_RESTORE=1/);
    const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
    assert.equal(row!.status, 'failed');
    assert.match(row!.errorMessage!, /STRATA_ALLOW_SUPERUSER_RESTORE=1/);
    assert.deepEqual(await fingerprint(stack.config.DATABASE_URL, SCHEMA), live, 'the tenant is untouched');
    const aside = await stack.db.execute(sql`select 1 from pg_namespace where nspname like 'strata\_%'`);
    assert.equal(aside.rowCount, 0, 'nothing was moved aside');

    const v = await verifyBackup(ctx, backup.id, { requestedBy: 'test' });
    assert.equal(v.status, 'failed');
    assert.match(v.errorMessage!, /is a superuser.*STRATA_ALLOW_SUPERUSER_RESTORE=1/);
    assert.deepEqual(await scratchDatabasesOf(stack.db, [restore.id, v.id]), [], 'no scratch database was created');
  });

  it('a role that can SET ROLE to a superuser is refused too', async () => {
    const name = `strata_via_su_${crypto.randomBytes(4).toString('hex')}`;
    await stack.db.execute(sql.raw(`create role ${name} login password 'via-su-pw-1' in role postgres`));
    try {
      const u = new URL(stack.config.DATABASE_URL);
      u.username = name;
      u.password = 'via-su-pw-1';
      const facts = await inspectRole(u.toString());
      assert.equal(facts.superuser, false);
      assert.deepEqual(facts.superuserVia, ['postgres']);
      assert.match(replayRoleRefusal(facts, false)!, /member of the superuser role\(s\) postgres/);
      assert.equal(replayRoleRefusal(facts, true), null);
    } finally {
      await stack.db.execute(sql.raw(`drop role ${name}`));
    }
  });

  it('the stack`s replay role is no superuser, and restores, undoes and verifies', async () => {
    const facts = await inspectRole(stack.config.STRATA_RESTORE_DATABASE_URL!);
    assert.equal(facts.sessionUser, stack.restoreRole);
    assert.equal(replayRoleRefusal(facts, false), null);
    const ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
    const done = await runRestore(ctx, restore.id);
    assert.equal(done.status, 'completed');
    assert.notDeepEqual(await fingerprint(stack.config.DATABASE_URL, SCHEMA), live);
    const undo = await runRestore(ctx, (await createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' })).id);
    assert.equal(undo.status, 'completed');
    assert.deepEqual(await fingerprint(stack.config.DATABASE_URL, SCHEMA), live);
    const v = await verifyBackup(ctx, backup.id, { requestedBy: 'test' });
    assert.equal(v.status, 'passed', v.errorMessage ?? '');
    assert.equal(v.rows, 50);
    // The swap markers were written by the replay role, which may do nothing else with Strata's tables.
    const privileges = await stack.db.execute<{ insert: boolean; select: boolean; users: boolean }>(sql`
      select has_table_privilege(${stack.restoreRole}, 'restore_swaps', 'INSERT') as insert,
             has_table_privilege(${stack.restoreRole}, 'restore_swaps', 'SELECT, UPDATE, DELETE') as select,
             has_table_privilege(${stack.restoreRole}, 'users', 'SELECT, INSERT, UPDATE, DELETE') as users`);
    assert.deepEqual(privileges.rows[0], { insert: true, select: false, users: false });
    await stack.db.execute(sql.raw(`drop schema ${undo.movedAsideSchema} cascade`));
  });

  it('the replay connects with STRATA_RESTORE_DATABASE_URL (a wrong password fails it, redacted, before anything moves)', async () => {
    const u = new URL(stack.config.STRATA_RESTORE_DATABASE_URL!);
    u.password = 'wrong-password-5d1e';
    const config = parseConfig({ ...stack.env, STRATA_RESTORE_DATABASE_URL: u.toString() });
    const before = await fingerprint(stack.config.DATABASE_URL, SCHEMA);
    const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
    const err = await runRestore({ db: stack.db, config, stores: createStores(config) }, restore.id).catch((e: unknown) => e as Error);
    assert.match(String(err), new RegExp(`cannot connect as the replay role \\(STRATA_RESTORE_DATABASE_URL\\).*password authentication failed for user "${stack.restoreRole}"`));
    assert.doesNotMatch(String(err), /wrong-password-5d1e/);
    assert.deepEqual(await fingerprint(stack.config.DATABASE_URL, SCHEMA), before);
  });

  it('with STRATA_ALLOW_SUPERUSER_RESTORE=1 a superuser replays', async () => {
    const config = parseConfig({ ...superuserEnv, STRATA_ALLOW_SUPERUSER_RESTORE: '1' });
    const ctx = { db: stack.db, config, stores: createStores(config) };
    const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
    const done = await runRestore(ctx, restore.id);
    assert.equal(done.status, 'completed', done.errorMessage ?? '');
    assert.notDeepEqual(await fingerprint(stack.config.DATABASE_URL, SCHEMA), live);
  });
});
