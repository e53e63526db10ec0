// The `strata` CLI as operators run it: the package bin, real processes, --json, exit codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';

interface Run {
  code: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
  stdout: string;
  stderr: string;
}

describe('strata CLI', () => {
  let stack: TestStack;
  const strata = (args: string[], input?: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      // The stack's servers live in this process: spawn asynchronously so they keep answering.
      const child = spawn(process.execPath, ['worker/bin/strata.mjs', ...args], { env: { ...process.env, ...stack.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.on('error', reject);
      child.on('close', (code) => {
        let json = {};
        try {
          json = JSON.parse(stdout);
        } catch {
          /* human output */
        }
        resolve({ code: code ?? -1, json, stdout, stderr });
      });
      child.stdin.end(input ?? '');
    });

  before(async () => {
    stack = await startTestStack();
    await createDemoTenant(stack.db, { id: 'cli-clinic', name: 'CLI Clinic', schemaName: 'CLI clinic "main"', plan: 'premium', patients: 300 });
    await stack.db.execute(sql`create schema "walk-in"`);
  });
  after(async () => stack?.stop());

  it('migrates idempotently and adds, re-plans and lists tenants', async () => {
    assert.equal((await strata(['migrate', '--json'])).code, 0);
    const add = await strata(['tenant', 'add', '--id', 'walk-in', '--name', 'Walk-in Centre', '--schema', 'walk-in', '--tier', 'advanced', '--json']);
    assert.equal(add.code, 0, add.stderr);
    const again = await strata(['tenant', 'add', '--id', 'walk-in', '--name', 'Walk-in Centre', '--schema', 'walk-in', '--tier', 'advanced', '--json']);
    assert.equal(again.code, 4);
    assert.equal(again.json.error?.code, 'conflict');
    const setTier = await strata(['tenant', 'set-tier', '--id', 'walk-in', '--tier', 'basic', '--json']);
    assert.deepEqual(setTier.json, { tenant: { id: 'walk-in', tier: 'basic', previous_tier: 'advanced' } });
    const list = await strata(['tenant', 'list', '--json']);
    const tenants = list.json.tenants as { id: string; tier: string; status: string }[];
    assert.deepEqual(tenants.map((t) => [t.id, t.tier]), [['cli-clinic', 'premium'], ['walk-in', 'basic']]);
    assert.equal(tenants[1]!.status, 'unprotected');
    assert.equal(list.json.next_cursor, null);
  });

  it('refuses bad input with exit 2 and a clear message, never a stack trace', async () => {
    for (const args of [
      ['backup', '--tenant', "x'; drop table tenants; --"],
      ['backup', '--tenant', 'cli-clinic', '--storage', 'glacier'],
      ['show', '--backup', 'not-a-uuid'],
      ['restore', '--backup', '00000000-0000-4000-8000-000000000000'],
      ['frobnicate'],
      ['tenant', 'add', '--id', 'a'.repeat(200), '--name', 'n', '--schema', 's', '--tier', 'premium'],
    ]) {
      const r = await strata([...args, '--json']);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code} ${r.stdout} ${r.stderr}`);
      assert.ok(r.json.error?.message, `${args.join(' ')} names the problem`);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    }
    const missing = await strata(['show', '--backup', '00000000-0000-4000-8000-000000000000', '--json']);
    assert.equal(missing.code, 1);
    assert.equal(missing.json.error?.code, 'not_found');
  });

  it('backs up (in-process with no worker), lists, shows, holds, verifies, restores and undoes', async () => {
    const backup = await strata(['backup', '--tenant', 'cli-clinic', '--storage', 'b2_cold', '--wait', '--json']);
    assert.equal(backup.code, 0, backup.stderr);
    const job = backup.json.job as Record<string, unknown>;
    assert.equal(job.status, 'completed');
    assert.equal(job.storage_tier, 'b2_cold');
    assert.match(String(job.backup_location), /^b2:\/\/strata-cold\/backups\/cli-clinic\/\d{4}\/\d{2}\/[0-9a-f-]{36}\/dump\.zst\.age$/);
    assert.match(String(job.requested_by), /^cli:.+@.+/);
    const id = String(job.id);

    const list = await strata(['list', '--tenant', 'cli-clinic', '--json']);
    assert.deepEqual((list.json.backups as { id: string }[]).map((b) => b.id), [id]);
    const show = await strata(['show', '--backup', id, '--json']);
    assert.deepEqual(show.json.job, job);

    assert.equal((await strata(['hold', '--backup', id, '--on', '--json'])).code, 0);
    assert.equal(((await strata(['show', '--backup', id, '--json'])).json.job as { legal_hold: boolean }).legal_hold, true);
    assert.equal((await strata(['hold', '--backup', id, '--off', '--json'])).code, 0);

    const verify = await strata(['verify', '--backup', id, '--wait', '--json']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((verify.json.verification as { status: string }).status, 'passed');

    // Change the tenant after the backup; the in-place restore brings the backed-up rows back.
    const count = async () => Number((await stack.db.execute<{ n: string }>(sql`select count(*) n from "CLI clinic ""main""".patients`)).rows[0]!.n);
    const before = await count();
    await stack.db.execute(sql`delete from "CLI clinic ""main""".prescriptions`);
    await stack.db.execute(sql`delete from "CLI clinic ""main""".patients where id > 100 and id not in (select patient_id from "CLI clinic ""main""".appointments)`);
    const refused = await strata(['restore', '--backup', id, '--json']);
    assert.equal(refused.code, 2, 'a restore without --yes is refused');
    const restore = await strata(['restore', '--backup', id, '--yes', '--wait', '--json']);
    assert.equal(restore.code, 0, restore.stderr + restore.stdout);
    const r = restore.json.restore as { id: string; status: string; moved_aside_schema: string };
    assert.equal(r.status, 'completed');
    assert.match(r.moved_aside_schema, /^strata_undo_[0-9a-f]{8}$/);
    assert.equal(await count(), before);

    const undo = await strata(['restore', 'undo', '--restore', r.id, '--yes', '--wait', '--json']);
    assert.equal(undo.code, 0, undo.stderr + undo.stdout);
    assert.equal((undo.json.restore as { status: string }).status, 'completed');

    const prune = await strata(['prune', '--dry-run', '--json']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual((prune.json.decisions as { backup_id: string; action: string }[]).filter((d) => d.backup_id === id).map((d) => d.action), ['keep']);

    const rebuild = await strata(['catalog', 'rebuild', '--json']);
    assert.equal(rebuild.code, 0, rebuild.stderr);
    assert.deepEqual(rebuild.json, { added: 0, already: 1, tenants_added: 0, rejected: [], trusted_unsigned: 0 });

    const audit = await stack.db.execute<{ action: string; actor: string; via: string | null }>(sql`select action, actor, details->>'via' as via from audit_log order by id`);
    const byCli = audit.rows.filter((a) => a.action === 'restore.create' || a.action === 'backup.create');
    assert.ok(byCli.length >= 2, JSON.stringify(audit.rows));
    for (const a of byCli) {
      assert.ok(a.actor.startsWith('cli:'), a.actor);
      assert.equal(a.via, 'cli', `${a.action} audited via ${a.via}`);
    }
  });

  it('backup --wait with no worker runs its own job only: another queued job stays queued, no worker is announced', async () => {
    await createDemoTenant(stack.db, { id: 'cli-other', name: 'CLI Other', schemaName: 'cli_other', plan: 'basic', patients: 20 });
    const queued = await strata(['backup', '--tenant', 'cli-other', '--json']);
    assert.equal(queued.code, 0, queued.stderr);
    const other = String((queued.json.job as { id: string }).id);
    const waited = await strata(['backup', '--tenant', 'cli-clinic', '--wait', '--json']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((waited.json.job as { status: string }).status, 'completed');
    const row = (await stack.db.execute<{ status: string; locked_by: string | null; attempts: number }>(sql`
      select status, locked_by, attempts from backup_jobs where id = ${other}::uuid`)).rows[0]!;
    assert.deepEqual(row, { status: 'pending', locked_by: null, attempts: 0 }, "the other tenant's backup was not touched");
    const beats = (await stack.db.execute<{ n: number }>(sql`select count(*)::int as n from worker_heartbeats`)).rows[0]!.n;
    assert.equal(beats, 0, 'the CLI did not announce itself as a worker');
    // A --wait for that tenant runs its own new job, not the queued one (a worker will).
    const later = await strata(['backup', '--tenant', 'cli-other', '--wait', '--json']);
    assert.equal(later.code, 0, later.stderr);
    assert.equal((later.json.job as { status: string }).status, 'completed');
    assert.notEqual((later.json.job as { id: string }).id, other);
    assert.equal((await stack.db.execute<{ status: string }>(sql`select status from backup_jobs where id = ${other}::uuid`)).rows[0]!.status, 'pending');
  });

  it('adds dashboard users with the password on stdin', async () => {
    const ok = await strata(['user', 'add', '--email', 'ops@example.org', '--role', 'operator', '--json'], 'a long enough password\n');
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.deepEqual((ok.json.user as { email: string; role: string }).role, 'operator');
    const short = await strata(['user', 'add', '--email', 'x@example.org', '--role', 'admin', '--json'], 'short\n');
    assert.equal(short.code, 2);
    const dup = await strata(['user', 'add', '--email', 'ops@example.org', '--role', 'admin', '--json'], 'a long enough password\n');
    assert.equal(dup.code, 4);
  });

  it('removes a tenant and refuses to purge backups on legal hold', async () => {
    assert.equal((await strata(['tenant', 'remove', '--id', 'walk-in', '--json'])).code, 2, 'needs --yes');
    const removed = await strata(['tenant', 'remove', '--id', 'walk-in', '--yes', '--json']);
    assert.equal(removed.code, 0, removed.stderr + removed.stdout);
    const left = await stack.db.execute(sql`select 1 from tenants where id = 'walk-in'`);
    assert.equal(left.rowCount, 0);

    const [held] = (await stack.db.execute<{ id: string }>(sql`select id from backup_jobs where tenant_id = 'cli-clinic' and status = 'completed' limit 1`)).rows;
    assert.equal((await strata(['hold', '--backup', held!.id, '--on'])).code, 0);
    const purge = await strata(['tenant', 'remove', '--id', 'cli-clinic', '--purge-backups', '--yes', '--json']);
    assert.equal(purge.code, 4, purge.stdout);
    assert.match(purge.json.error!.message, new RegExp(held!.id));
    const still = await stack.db.execute(sql`select 1 from tenants where id = 'cli-clinic'`);
    assert.equal(still.rowCount, 1, 'a refused purge changes nothing');
  });
});
