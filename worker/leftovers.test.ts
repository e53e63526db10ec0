// The sweep of a killed job's leftovers, against a real PostgreSQL: a scratch database and a temp dir
// named for their job are removed exactly when the job is over or its lease ran out; a job pending,
// running under a live lease, or run in-process without one keeps them; a name whose job is not in
// this catalog (another installation's) and a name without an owner mark are never touched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { jobTempDirOwner, jobTempDirPrefix, scratchDatabaseName, scratchDatabaseOwner } from '../lib/domain.ts';
import { strayLeftovers } from '../lib/reliability/harness.ts';
import { createScratchDatabase } from '../lib/restore/scratch.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';
import { sweepLeftovers } from './leftovers.ts';

describe('sweeping the leftovers of killed jobs', () => {
  let stack: TestStack;
  const backupId = randomUUID();
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('owner marks round-trip through the names and fit PostgreSQL’s 63 bytes', () => {
    const key = randomUUID();
    const name = scratchDatabaseName('clone', key, 'a1b2c3d4e5f6');
    assert.ok(Buffer.byteLength(name) <= 63, name);
    assert.deepEqual(scratchDatabaseOwner(name), { kind: 'restore', jobKey: key });
    assert.deepEqual(scratchDatabaseOwner(scratchDatabaseName('verify', key, '000000000000')), { kind: 'verify', jobKey: key });
    assert.deepEqual(jobTempDirOwner(`${jobTempDirPrefix({ kind: 'backup', jobKey: key })}Ab12Cd`), { kind: 'backup', jobKey: key });
    for (const other of ['strata_verify_1234', 'strata_clone_x', 'app_db', `strata_verify_${'0'.repeat(32)}`]) assert.equal(scratchDatabaseOwner(other), null, other);
    for (const other of ['strata-pg-abc', 'strata-backup-', 'strata-restore-notakey-abc', 'tmp']) assert.equal(jobTempDirOwner(other), null, other);
  });

  it('removes what a finished or lease-expired job left, keeps what a live job owns, touches nothing else', async () => {
    const { db, config } = stack;
    const verification = async (status: string, lease: 'live' | 'expired' | 'none') => {
      const expires = lease === 'live' ? sql`now() + interval '1 hour'` : lease === 'expired' ? sql`now() - interval '1 second'` : sql`null`;
      const locked = lease === 'none' ? sql`null` : sql`'w-1'`;
      const [row] = (
        await db.execute<{ id: string }>(sql`
          insert into backup_verifications (backup_id, tenant_id, status, requested_by, locked_by, lease_expires_at)
          values (${backupId}::uuid, 'lo', ${status}, 'test', ${locked}, ${expires}) returning id::text`)
      ).rows;
      return row!.id;
    };
    const cases = {
      running_live: await verification('running', 'live'),
      running_in_process: await verification('running', 'none'),
      pending: await verification('pending', 'none'),
      running_expired: await verification('running', 'expired'),
      passed: await verification('passed', 'none'),
      failed: await verification('failed', 'none'),
      no_row: randomUUID(),
    };
    const made: Record<string, { database: string; dir: string }> = {};
    fs.mkdirSync(config.STRATA_TMP_DIR, { recursive: true });
    for (const [name, id] of Object.entries(cases)) {
      const scratch = await createScratchDatabase(config, 'verify', id);
      const dir = fs.mkdtempSync(path.join(config.STRATA_TMP_DIR, jobTempDirPrefix({ kind: 'verify', jobKey: id })));
      fs.writeFileSync(path.join(dir, 'dump.pgdump'), 'partial download');
      made[name] = { database: scratch.name, dir: path.basename(dir) };
    }
    // Not Strata's by their names: left alone whatever their age.
    await db.execute(sql.raw('create database strata_verify_not_a_job'));
    fs.mkdirSync(path.join(config.STRATA_TMP_DIR, 'strata-restore-notes'), { recursive: true });

    const swept = await sweepLeftovers({ db, config });
    assert.deepEqual(swept.failed, []);
    const gone = ['running_expired', 'passed', 'failed'];
    const kept = ['running_live', 'running_in_process', 'pending'];
    assert.deepEqual(swept.databases.sort(), gone.map((c) => made[c]!.database).sort());
    assert.deepEqual(swept.dirs.sort(), gone.map((c) => made[c]!.dir).sort());
    const left = await strayLeftovers(db, config);
    for (const c of kept) {
      assert.ok(left.includes(`database ${made[c]!.database}`), `${c}: its scratch database is kept`);
      assert.ok(left.includes(`temp dir ${made[c]!.dir}`), `${c}: its temp dir is kept`);
    }
    for (const c of gone) assert.ok(!left.some((l) => l.endsWith(made[c]!.database) || l.endsWith(made[c]!.dir)), `${c}: removed`);
    assert.ok(left.every((l) => !l.endsWith(made.no_row!.database) && !l.endsWith(made.no_row!.dir)), 'another installation’s are not listed as ours');
    const foreign = (await db.execute(sql`select 1 from pg_database where datname = ${made.no_row!.database}`)).rows;
    assert.equal(foreign.length, 1, 'a scratch database whose job is not in this catalog is never dropped');
    assert.ok(fs.existsSync(path.join(config.STRATA_TMP_DIR, made.no_row!.dir)), 'nor its temp dir removed');
    const other = (await db.execute(sql`select 1 from pg_database where datname = 'strata_verify_not_a_job'`)).rows;
    assert.equal(other.length, 1, 'a database that carries no owner mark is never dropped');
    assert.ok(fs.existsSync(path.join(config.STRATA_TMP_DIR, 'strata-restore-notes')), 'a dir that carries no owner mark is never removed');

    // The live job finishes: the next sweep takes its leftovers too.
    await db.execute(sql`update backup_verifications set status = 'passed', locked_by = null, lease_expires_at = null where id in (${sql.join(kept.map((c) => sql`${cases[c as keyof typeof cases]}::uuid`), sql`, `)})`);
    const second = await sweepLeftovers({ db, config });
    assert.deepEqual(second.databases.sort(), kept.map((c) => made[c]!.database).sort());
    assert.deepEqual(second.dirs.sort(), kept.map((c) => made[c]!.dir).sort());
    assert.deepEqual(await strayLeftovers(db, config), []);
    await db.execute(sql.raw('drop database strata_verify_not_a_job'));
    await db.execute(sql.raw(`drop database ${made.no_row!.database}`));
    for (const d of ['strata-restore-notes', made.no_row!.dir]) fs.rmSync(path.join(config.STRATA_TMP_DIR, d), { recursive: true });
  });
});
