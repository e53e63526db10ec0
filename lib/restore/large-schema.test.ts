// A tenant with thousands of relations on a default-configured server (max_locks_per_transaction 64,
// max_connections 100: a lock table of 6,400): one transaction cannot replay it, so the restore stages
// it — exactly, atomically, leaving nothing behind on failure — or refuses before the download,
// naming the setting to raise. The shared test cluster runs with max_connections 200, so this file
// starts a cluster of its own with the stock value.
import { queryOnce } from '../testing/pg-env.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { pgDumpArgs } from '../backup/dump.ts';
import { PgConnection } from '../process/child-env.ts';
import { runTool } from '../process/tool-process.ts';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { startPostgres, type PostgresServer } from '../services/postgres.ts';
import { TOOLS } from '../process/system-tools.ts';
import { createStores } from '../storage/registry.ts';
import { createTestBackup } from '../testing/fixture-backup.ts';
import { createFixtureTenant, FIXTURE_SCHEMA, fingerprint, widenDefaultPrivileges } from '../testing/fixture-tenant.ts';
import { startTestStack, TEST_PG_ENV, type TestStack } from '../testing/stack.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';
import { createRestore } from './create.ts';
import { LockCapacityError, MissingPrerequisitesError } from './errors.ts';
import { checkPrerequisites } from './replay.ts';
import { replayRole } from './replay-role.ts';
import { runRestore, type RestoreContext } from './run-restore.ts';
import { dropSchemaInBatches, planStagedRestore, runStagedReplay, type ReplaySplit } from './staged.ts';
import { listedEntryIds } from './toc-check.ts';
import { dropExpiredUndoCopies } from './undo-copies.ts';
import { verifyBackup } from './verify.ts';

const BIG = 'big tenant';
const B = quoteIdent(BIG);
const TABLES = 1500;

describe('large schemas on a default-configured server', () => {
  let server: PostgresServer;
  let stack: TestStack;
  let ctx: RestoreContext;
  let url: string;
  let backup: BackupJobRow;
  let work: string;
  const savedEnv = process.env[TEST_PG_ENV];

  const exec = (text: string) => queryOnce(url, text);
  /** Every relation of the schema by kind, each table's row count and row hash, each sequence's state: one statement. */
  const contents = async (schema: string) =>
    (
      await exec(`
        SELECT c.relname, c.relkind,
          CASE WHEN c.relkind = 'r' THEN (xpath('/row/h/text()', query_to_xml(format(
            'SELECT count(*) || '':'' || coalesce(md5(string_agg(md5(t::text), '''' ORDER BY md5(t::text))), '''') AS h FROM %I.%I t',
            n.nspname, c.relname), false, true, '')))[1]::text
          WHEN c.relkind = 'S' THEN (SELECT s.last_value::text FROM pg_sequences s WHERE s.schemaname = n.nspname AND s.sequencename = c.relname)
          END AS state
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '${schema.replaceAll("'", "''")}' AND c.relkind NOT IN ('t') ORDER BY c.relname`)
    ).rows as { relname: string; relkind: string; state: string | null }[];
  /** A session holding `n` of the server's lock slots (advisory locks share the lock table). */
  const holdLocks = async (n: number) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`SELECT count(pg_advisory_lock(i)) FROM generate_series(1, ${n}) i`);
    return () => c.end();
  };
  let realSlots = 0;
  const stagingLeft = async () => (await exec(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'strata\\_stage\\_%'`)).rows;
  const dumpOf = async (schema: string, file: string) => {
    await runTool(TOOLS.pgDump, [...pgDumpArgs(schema), '--no-password', '-f', file], { connection: PgConnection.fromUrl(url, { appName: 'strata-test', dir: path.dirname(file) }) });
    return file;
  };

  before(async () => {
    server = await startPostgres({ settings: { max_connections: '100' } });
    process.env[TEST_PG_ENV] = server.adminUrl('postgres');
    stack = await startTestStack();
    url = stack.config.DATABASE_URL;
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    work = fs.mkdtempSync(path.join(stack.dir, 'large-'));
    const settings = (await exec(`SELECT current_setting('max_locks_per_transaction') AS l, current_setting('max_connections') AS c`)).rows[0];
    assert.deepEqual(settings, { l: '64', c: '100' }, 'a default-configured lock table');
    // How many locks one transaction can really get here (the documented 6,400 plus spare shared memory).
    const probe = await exec(`DO $$ DECLARE i int := 0; BEGIN
        LOOP i := i + 1; PERFORM pg_advisory_xact_lock(i); END LOOP;
      EXCEPTION WHEN out_of_memory THEN RAISE EXCEPTION 'slots:%', i; END $$`).catch((err: Error) => err);
    realSlots = Number(/slots:(\d+)/.exec(String(probe))?.[1]);
    assert.ok(realSlots > 6400, `measured ${realSlots} lock slots`);
    // 1,500 tables, each with a serial primary key, an index and a TOAST table: 9,000 relations.
    // As an ORM builds them, every table uses the schema's own enum, has a trigger running the schema's
    // own function, and a policy that reads the schema's members table: none of these may link the
    // tables into one set the staged restore cannot split (lib/restore/parallel-groups.ts replayGroups).
    // Committed every 100 tables: creating them needs locks too.
    await exec(`
      CREATE FUNCTION public.big_norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
      CREATE SCHEMA ${B} AUTHORIZATION ${TENANT_OWNER_ROLE};
      SET ROLE ${TENANT_OWNER_ROLE};
      CREATE TYPE ${B}.state AS ENUM ('new', 'done');
      CREATE FUNCTION ${B}.touch() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN NEW.n := NEW.n; RETURN NEW; END $fn$;
      CREATE TABLE ${B}.members (name text);
      RESET ROLE;
      INSERT INTO public.tenants (id, name, schema_name) VALUES ('big', 'Big', '${BIG}');
      INSERT INTO public.tenant_subscriptions (tenant_id, tier_id) VALUES ('big', 'premium');`);
    await exec(`DO $$
      BEGIN
        FOR i IN 1..${TABLES} LOOP
          EXECUTE format('CREATE TABLE %I.%I (id serial PRIMARY KEY, n int NOT NULL, note text, state %I.state NOT NULL DEFAULT ''new'')', '${BIG}', 't' || i, '${BIG}');
          EXECUTE format('CREATE INDEX ON %I.%I (n)', '${BIG}', 't' || i);
          EXECUTE format('CREATE TRIGGER touch BEFORE UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.touch()', '${BIG}', 't' || i, '${BIG}');
          EXECUTE format('CREATE POLICY members_only ON %I.%I USING (current_user IN (SELECT name FROM %I.members))', '${BIG}', 't' || i, '${BIG}');
          -- The application's role owns tenant objects (the replay role is a member of it, never of a superuser).
          EXECUTE format('ALTER TABLE %I.%I OWNER TO ${TENANT_OWNER_ROLE}', '${BIG}', 't' || i);
          EXECUTE format('INSERT INTO %I.%I (n, note) SELECT g * %s, md5(g::text) FROM generate_series(1, 3) g', '${BIG}', 't' || i, i);
          IF i % 100 = 0 THEN COMMIT; END IF;
        END LOOP;
      END $$`);
    // An expression index on a function in public (for the failure case) and a sequence moved on.
    await exec(`CREATE INDEX t7_norm ON ${B}.t7 (public.big_norm(note)); SELECT setval('${B}.t2_id_seq', 500);`);
    backup = await createTestBackup(ctx, 'big', 's3_standard');
  });
  after(async () => {
    await stack?.stop();
    await server?.stop();
    if (savedEnv === undefined) delete process.env[TEST_PG_ENV];
    else process.env[TEST_PG_ENV] = savedEnv;
  });

  // Other sessions share the lock table: with 6,000 slots left, the 9,000 of one transaction do not fit.
  it('one transaction runs out of lock slots here, and the prerequisite probe says so (not a missing prerequisite)', async () => {
    const dump = await dumpOf(BIG, path.join(work, 'probe.pgdump'));
    const release = await holdLocks(realSlots - 6000);
    await assert.rejects(
      checkPrerequisites({ config: stack.config, role: await replayRole(stack.config), dumpPath: dump, moveAside: { live: BIG, aside: 'strata_probe_x' } }),
      (err: unknown) => {
        assert.ok(err instanceof LockCapacityError, `a LockCapacityError, got ${String(err)}`);
        assert.match(err.message, /out of shared memory/);
        assert.match(err.message, /raise max_locks_per_transaction to at least \d+/);
        assert.doesNotMatch(err.message, /lacks what the backup needs/);
        return true;
      },
    ).finally(release);
  });

  it('in place, with the same 6,000 slots left: staged, exact, and the moved-aside copy is the tenant as it was', async () => {
    const original = await contents(BIG);
    const definitions = await fingerprint(url, BIG);
    assert.equal(original.filter((r) => r.relkind === 'r').length, TABLES + 1);
    assert.equal(original.length, TABLES * 4 + 2);
    await exec(`
      DELETE FROM ${B}.t1 WHERE n > 1;
      SELECT nextval('${B}.t3_id_seq');
      DROP TABLE ${B}.t4;
      CREATE TABLE ${B}.added (x int);`);
    assert.notDeepEqual(await contents(BIG), original);
    const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
    const release = await holdLocks(realSlots - 6000);
    const done = await runRestore(ctx, restore.id).finally(release);
    assert.equal(done.status, 'completed', done.errorMessage ?? '');
    assert.deepEqual(await contents(BIG), original);
    assert.deepEqual(await fingerprint(url, BIG), definitions, 'types, triggers, policies, grants as backed up');
    const aside = (await exec(`SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = '${done.movedAsideSchema}' AND relname IN ('added', 't4')`)).rows;
    assert.deepEqual(aside, [{ relname: 'added' }], 'the moved-aside copy is the live tenant before the restore');
    assert.deepEqual(await stagingLeft(), []);
  });

  it('the expired moved-aside copy, too large for one transaction here, is dropped in batches', async () => {
    const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.status, 'completed'));
    const aside = row?.movedAsideSchema;
    assert.ok(aside, 'the in-place restore above left a moved-aside copy');
    await stack.db.update(restoreJobs).set({ undoExpiresAt: new Date(Date.now() - 60_000) }).where(eq(restoreJobs.id, row.id));
    const release = await holdLocks(realSlots - 6000);
    const r = await (async () => {
      await assert.rejects(exec(`DROP SCHEMA ${quoteIdent(aside)} CASCADE`), /out of shared memory/, 'one transaction cannot drop the copy here');
      return dropExpiredUndoCopies(stack.db, { STRATA_UNDO_RETENTION_DAYS: 7, DATABASE_URL: url });
    })().finally(release);
    assert.deepEqual(r, { dropped: [aside], kept: [] });
    assert.deepEqual((await exec(`SELECT 1 FROM pg_namespace WHERE nspname = '${aside}'`)).rows, []);
    const [after] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, row.id));
    assert.ok(after?.undoDroppedAt, 'the restore row records the drop');
  });

  it('a verification of the large tenant (its scratch database) passes with the same 6,000 slots left', async () => {
    const release = await holdLocks(realSlots - 6000);
    const v = await verifyBackup(ctx, backup.id, { requestedBy: 'test' }).finally(release);
    assert.equal(v.status, 'passed', v.errorMessage ?? '');
    assert.equal(v.tables, TABLES + 1);
  });

  it('a failure in the middle of the staged replay leaves the tenant as it was and no staging schema', async () => {
    await exec(`DELETE FROM ${B}.t5; SELECT setval('${B}.t6_id_seq', 77);`);
    const before = await contents(BIG);
    // The definitions and the data load fine; the expression index (post-data) then fails.
    await exec(`ALTER FUNCTION public.big_norm(text) RENAME TO big_norm_gone`);
    try {
      const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
      await assert.rejects(runRestore(ctx, restore.id), (err: unknown) => {
        assert.ok(err instanceof MissingPrerequisitesError, String(err));
        assert.match(err.message, /big_norm\(text\) does not exist/);
        return true;
      });
      const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      assert.equal(row!.status, 'failed');
      assert.equal(row!.movedAsideSchema, null);
    } finally {
      await exec(`ALTER FUNCTION public.big_norm_gone(text) RENAME TO big_norm`);
    }
    assert.deepEqual(await contents(BIG), before, 'the tenant is unchanged');
    assert.deepEqual(await stagingLeft(), [], 'the staging schema is dropped');
  });

  it('a large tenant that names itself in function text is refused before the download, naming the setting', async () => {
    await exec(`CREATE FUNCTION ${B}.count_first() RETURNS bigint LANGUAGE plpgsql AS $f$
      BEGIN RETURN (SELECT count(*) FROM "${BIG}".t1); END $f$`);
    try {
      const before = await contents(BIG);
      const restore = await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' });
      await assert.rejects(runRestore(ctx, restore.id), (err: unknown) => {
        assert.ok(err instanceof LockCapacityError, String(err));
        assert.match(err.message, /max_locks_per_transaction to at least (\d+)/);
        assert.match(err.message, /64 × \(100 \+ 0\) = 6400/);
        assert.match(err.message, /needs about 905\d locks/);
        assert.match(err.message, /count_first\(\)/);
        const value = Number(/at least (\d+)/.exec(err.message)![1]);
        assert.ok(value > 64 && value % 64 === 0, `a usable value: ${value}`);
        return true;
      });
      const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
      assert.equal(row!.status, 'failed');
      assert.equal(row!.phase, 'starting', 'nothing was downloaded');
      assert.equal(row!.totalBytes, null);
      assert.deepEqual(await contents(BIG), before);
    } finally {
      await exec(`DROP FUNCTION ${B}.count_first()`);
    }
  });

  it('staging rewrites every reference of a feature-rich schema exactly (quoted name, RLS, grants, default privileges)', async () => {
    await createFixtureTenant(url, { rows: 2000 });
    const original = await fingerprint(url, FIXTURE_SCHEMA);
    const dump = await dumpOf(FIXTURE_SCHEMA, path.join(work, 'fixture.pgdump'));
    // Without global default privileges of the replay role: definitions in independent groups at once
    // (lib/restore/parallel-groups.ts), data and indexes too, foreign keys and view data after them.
    const restored = listedEntryIds(await runTool(TOOLS.pgRestore, ['--list', dump]));
    const parallel = await planStagedRestore(stack.config, dump, FIXTURE_SCHEMA, 'strata_stage_parallel', work, { restored, force: true });
    let split: ReplaySplit | undefined;
    await runStagedReplay({ config: stack.config, plan: parallel!, target: 'parallel copy', finish: 'SELECT 1;', workDir: work, onGroups: (g) => (split = g) });
    assert.ok(split && split.mode === 'together' && split.groups >= 2 && split.after > 0, JSON.stringify(split));
    assert.deepEqual(await fingerprint(url, 'parallel copy'), original);
    await dropSchemaInBatches(url, 'parallel copy');
    // With them: definitions batch by batch, each suspending those defaults.
    await widenDefaultPrivileges(url, stack.restoreRole);
    const S = quoteIdent(FIXTURE_SCHEMA);
    await exec(`DELETE FROM ${S}.events WHERE id % 2 = 0; DROP TABLE ${S}.empty_things;`);
    const changed = await fingerprint(url, FIXTURE_SCHEMA);
    const plan = await planStagedRestore(stack.config, dump, FIXTURE_SCHEMA, 'strata_stage_fixture', work, { restored, force: true });
    assert.ok(plan);
    await runStagedReplay({
      config: stack.config,
      plan,
      onGroups: (g) => assert.equal(g.mode, 'definitions in batches'),
      target: FIXTURE_SCHEMA,
      moveAside: { live: FIXTURE_SCHEMA, aside: 'strata_undo_fixture' },
      finish: 'SELECT 1;',
      workDir: work,
    });
    assert.deepEqual(await fingerprint(url, FIXTURE_SCHEMA), original);
    assert.deepEqual(await fingerprint(url, 'strata_undo_fixture'), changed);
    // Under another name too (what a clone of a large tenant does).
    const clone = await planStagedRestore(stack.config, dump, FIXTURE_SCHEMA, 'strata_stage_clone', work, { restored, force: true });
    await runStagedReplay({ config: stack.config, plan: clone!, target: 'Clone "ü" 2', finish: 'SELECT 1;', workDir: work });
    assert.deepEqual(await fingerprint(url, 'Clone "ü" 2'), original);
    assert.deepEqual(await stagingLeft(), []);
  });
});
