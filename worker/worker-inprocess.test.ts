// runWorker in this process: coinciding schedules as one dump stored per tier, a job failing for
// good (one webhook), restore drills, and dropping expired undo copies only when nothing depends on them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import type { Db } from '../lib/db/client.ts';
import type { Config } from '../lib/env.ts';
import { pgTime } from '../lib/jobs/pg-time.ts';
import { addTinyTenants } from '../lib/jobs/test-support.ts';
import { reconcileSchedules } from '../lib/scheduler/reconcile.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';
import { queueDrills } from './drills.ts';
import { waitFor } from './test-support.ts';
import { dropExpiredUndoCopies } from '../lib/restore/undo-copies.ts';
import { runWorker } from './worker.ts';

describe('runWorker (in process)', () => {
  let stack: TestStack;
  let db: Db;
  let config: Config;
  let server: Server;
  const posts: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push((JSON.parse(body) as { text: string }).text);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stack = await startTestStack();
    db = stack.db;
    config = {
      ...stack.config,
      STRATA_WEBHOOK_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      STRATA_WORKER_POLL_MS: 100,
      STRATA_RETRY_BASE_SECONDS: 0,
    };
  });
  after(async () => {
    await stack?.stop();
    server?.close();
  });

  const withWorker = async (fn: () => Promise<unknown>) => {
    const stop = new AbortController();
    const done = runWorker(config, { signal: stop.signal, id: 'inproc', log: pino({ level: 'silent' }), maintenance: false });
    try {
      await fn();
    } finally {
      stop.abort();
      await done;
    }
  };
  const rowsOf = async (tenant: string) =>
    (await db.execute<{ origin: string; storage_tier: string; status: string; dump_group: string; expires_at: string | null; completed_at: string | null; error_message: string | null }>(sql`
      select origin, storage_tier, status, dump_group::text, expires_at, completed_at, error_message from backup_jobs where tenant_id = ${tenant} order by origin`)).rows;

  it('coinciding daily, weekly and monthly: one dump stored in three tiers, each with its own expiry', async () => {
    await addTinyTenants(db, ['trio'], { plan: 'premium' });
    await reconcileSchedules(db, config);
    await db.execute(sql`update backup_schedules set next_run_at = now() - interval '5 minutes' where schedule_type = 'daily'`);
    await db.execute(sql`update backup_schedules set next_run_at = now() + interval '55 minutes' where schedule_type = 'weekly'`);
    await db.execute(sql`update backup_schedules set next_run_at = now() + interval '115 minutes' where schedule_type = 'monthly'`);
    await withWorker(() => waitFor('three completed backups', async () => (await rowsOf('trio')).filter((r) => r.status === 'completed').length === 3, 60_000));
    const rows = await rowsOf('trio');
    assert.deepEqual(rows.map((r) => [r.origin, r.storage_tier]), [
      ['daily', 's3_standard'],
      ['monthly', 'b2_cold'],
      ['weekly', 's3_ia'],
    ]);
    assert.equal(new Set(rows.map((r) => r.dump_group)).size, 1, 'one dump');
    const days = (r: (typeof rows)[number]) => Math.round((pgTime(r.expires_at).getTime() - pgTime(r.completed_at).getTime()) / 86_400_000);
    assert.equal(days(rows[0]!), 7);
    assert.equal(days(rows[2]!), 28);
    assert.ok(days(rows[1]!) >= 365 && days(rows[1]!) <= 366);
  });

  it('a backup failing every attempt fails for good with one webhook', async () => {
    posts.length = 0;
    await addTinyTenants(db, ['broken'], { plan: 'basic' });
    await db.execute(sql`drop schema t_broken cascade`); // pg_dump --strict-names now fails
    await db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, origin, max_attempts) values ('broken', 's3_standard', 'manual', 2)`);
    await withWorker(() => waitFor('failed for good', async () => (await rowsOf('broken'))[0]!.status === 'failed', 60_000));
    const [row] = await rowsOf('broken');
    assert.match(row!.error_message!, /^failed after 2 attempts: /);
    await waitFor('the webhook', async () => posts.length > 0, 5_000);
    assert.equal(posts.length, 1);
    assert.match(posts[0]!, /backup .* of tenant broken failed/);
  });

  it('a weekly drill verifies the newest backup of sampled tenants', async () => {
    const { queued } = await queueDrills(db, { STRATA_DRILL_SAMPLE: 1 });
    assert.equal(queued.length, 1);
    await withWorker(() =>
      waitFor('the drill', async () => (await db.execute<{ s: string }>(sql`select status s from backup_verifications where is_drill`)).rows[0]?.s === 'passed', 60_000),
    );
    const v = (await db.execute<{ requested_by: string; tables: number }>(sql`select requested_by, tables from backup_verifications where is_drill`)).rows[0]!;
    assert.deepEqual(v, { requested_by: 'drill', tables: 1 });
  });

  it('drops expired undo copies, but not one another schema depends on', async () => {
    await db.execute(sql`create schema strata_undo_0000aaaa`);
    await db.execute(sql`create table strata_undo_0000aaaa.t (id int primary key)`);
    await db.execute(sql`create schema strata_undo_0000bbbb`);
    await db.execute(sql`create table strata_undo_0000bbbb.t (id int primary key)`);
    await db.execute(sql`create schema reporting`);
    await db.execute(sql`create view reporting.v as select id from strata_undo_0000bbbb.t`);
    for (const [tenant, schema, age] of [['u1', 'strata_undo_0000aaaa', 8], ['u2', 'strata_undo_0000bbbb', 8], ['u3', 'strata_undo_0000cccc', 1]] as const) {
      await db.execute(sql`insert into restore_jobs (tenant_id, mode, target_schema, moved_aside_schema, status, completed_at)
        values (${tenant}, 'in_place', ${tenant}, ${schema}, 'completed', now() - make_interval(days => ${age}))`);
    }
    const r = await dropExpiredUndoCopies(db, { STRATA_UNDO_RETENTION_DAYS: 7, DATABASE_URL: config.DATABASE_URL });
    assert.deepEqual(r.dropped, ['strata_undo_0000aaaa']);
    assert.equal(r.kept.length, 1);
    assert.match(r.kept[0]!.reason, /view reporting\.v/);
    const schemas = (await db.execute<{ n: string }>(sql`select nspname n from pg_namespace where nspname like 'strata_undo_%' order by 1`)).rows.map((x) => x.n);
    assert.deepEqual(schemas, ['strata_undo_0000bbbb']);
    const marked = (await db.execute<{ t: string }>(sql`select tenant_id t from restore_jobs where undo_dropped_at is not null`)).rows.map((x) => x.t);
    assert.deepEqual(marked, ['u1']);
  });
});
