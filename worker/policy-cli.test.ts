// `strata policy show|set` and `strata cost simulate --preset/--compare` as operators run them: the
// package bin, real processes, --json, exit codes, the audit log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createDemoTenant } from '../lib/testing/tenant-data.ts';
import { fireTenant } from '../lib/scheduler/tick.ts';
import { startTestStack, type TestStack } from '../lib/testing/stack.ts';

interface Run {
  code: number;
  json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  stdout: string;
  stderr: string;
}

describe('strata policy and cost simulate', () => {
  let stack: TestStack;
  const strata = (args: string[]): Promise<Run> =>
    new Promise((resolve, reject) => {
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
      child.stdin.end('');
    });

  before(async () => {
    stack = await startTestStack();
    await createDemoTenant(stack.db, { id: 'policy-clinic', name: 'Policy Clinic', schemaName: 'policy_clinic', plan: 'premium', patients: 50 });
  });
  after(async () => stack?.stop());

  it('shows the seed layout, previews a change without writing, applies it only with --yes, audited', async () => {
    const show = await strata(['policy', 'show', '--tier', 'premium', '--json']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.json.policies[0].layout, 'seed');
    assert.deepEqual(show.json.policies[0].copies.weekly, [{ storage_tier: 's3_ia', keep: { days: 28 } }]);

    const unconfirmed = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--json']);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.json.error.message, /--yes/);
    const bad = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cheap', '--yes', '--json']);
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /seed, cost-optimized/);

    const dry = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const preview = dry.json.policy_change;
    assert.equal(preview.dry_run, true);
    assert.deepEqual([preview.from, preview.to, preview.tenants], ['seed', 'cost-optimized', 1]);
    assert.deepEqual(preview.schedules.find((s: { schedule_type: string }) => s.schedule_type === 'daily'), {
      schedule_type: 'daily',
      before: ['s3_standard 7 days'],
      after: ['s3_standard 1 day', 'b2_cold 7 days'],
    });
    assert.deepEqual(preview.stores, { before: ['s3_standard', 's3_ia', 'b2_cold'], after: ['s3_standard', 'b2_cold'] });
    assert.deepEqual(preview.backup_types, {
      before: { daily: 'full', weekly: 'full', monthly: 'full' },
      after: { daily: 'incremental', weekly: 'full', monthly: 'full' },
    }, 'the preset makes dailies incremental');
    const named = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--incremental', 'none', '--dry-run', '--json']);
    assert.deepEqual(named.json.policy_change.backup_types.after, { daily: 'full', weekly: 'full', monthly: 'full' }, '--incremental overrides the preset');
    assert.equal(named.json.backup_types_change, undefined, 'one change, saved together');
    const human = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--dry-run']);
    assert.match(human.stdout, /daily +full {2}→ {2}incremental/);
    assert.match(human.stdout, /incremental backups at 1% of the data changing a day/);
    assert.equal((await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0].layout, 'seed', 'a dry run writes nothing');

    const set = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--yes', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json.policy_change.dry_run, false);
    const { dry_run: _a, schedules_reconciled: _b, ...saved } = set.json.policy_change;
    const { dry_run: _c, ...previewed } = preview;
    assert.deepEqual(saved, previewed, 'the preview is what saving did');
    const shown = (await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0];
    assert.deepEqual([shown.layout, shown.backup_types.daily], ['cost-optimized', 'incremental']);
    const audit = (await stack.db.execute<{ actor: string; details: { from: string; to: string; backup_types_after: { daily: string } } }>(sql`
      select actor, details from audit_log where action = 'policy.layout' and target = 'premium'`)).rows;
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.actor, /^cli:/);
    assert.deepEqual([audit[0]!.details.from, audit[0]!.details.to, audit[0]!.details.backup_types_after.daily], ['seed', 'cost-optimized', 'incremental']);
    const schedules = (await stack.db.execute<{ schedule_type: string; storage_tier: string }>(sql`
      select schedule_type, storage_tier from backup_schedules where tenant_id = 'policy-clinic' order by id`)).rows;
    assert.deepEqual(schedules.map((s) => s.storage_tier), ['s3_standard', 'b2_cold', 'b2_cold'], 'schedules follow at once');
    const again = await strata(['policy', 'set', '--tier', 'premium', '--preset', 'cost-optimized', '--yes']);
    assert.match(again.stdout, /nothing to change/);
    // Back to full dailies for the next case (the layout stays).
    const off = await strata(['policy', 'set', '--tier', 'premium', '--incremental', 'none', '--yes', '--json']);
    assert.equal(off.code, 0, off.stderr);
  });

  it('--incremental sets which origins back up incrementally: previewed, applied with --yes, audited, followed by the scheduler', async () => {
    const show = await strata(['policy', 'show', '--tier', 'premium', '--json']);
    assert.deepEqual(show.json.policies[0].backup_types, { daily: 'full', weekly: 'full', monthly: 'full' });
    const bad = await strata(['policy', 'set', '--tier', 'premium', '--incremental', 'hourly', '--yes', '--json']);
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /--incremental: .*daily, weekly, monthly, or none.*hourly/);
    const neither = await strata(['policy', 'set', '--tier', 'premium', '--yes', '--json']);
    assert.equal(neither.code, 2);

    const dry = await strata(['policy', 'set', '--tier', 'premium', '--incremental', 'daily,weekly', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.json.backup_types_change.after, { daily: 'incremental', weekly: 'incremental', monthly: 'full' });
    assert.equal(dry.json.policy_change, undefined, 'no preset given: the layout is not touched');
    assert.deepEqual((await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0].backup_types.daily, 'full', 'a dry run writes nothing');

    const set = await strata(['policy', 'set', '--tier', 'premium', '--incremental', 'daily,weekly', '--yes']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /daily +full {2}→ {2}incremental/);
    assert.deepEqual((await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0].backup_types, { daily: 'incremental', weekly: 'incremental', monthly: 'full' });
    const audit = (await stack.db.execute<{ details: { after: Record<string, string> } }>(sql`
      select details from audit_log where action = 'policy.backup_types' and target = 'premium' order by id`)).rows;
    assert.deepEqual(audit.map((a) => a.details.after.daily), ['full', 'incremental'], "the previous case's reset, then this one");

    // The scheduler follows: a due daily alone is incremental; a daily that is also the monthly is full.
    const fire = async (types: string[]) => {
      await stack.db.execute(sql`delete from backup_jobs where tenant_id = 'policy-clinic'`);
      await stack.db.execute(sql`update backup_schedules set next_run_at = case when schedule_type in (select jsonb_array_elements_text(${JSON.stringify(types)}::jsonb)) then now() - interval '1 minute' else now() + interval '30 days' end where tenant_id = 'policy-clinic'`);
      await fireTenant(stack.db, stack.config, 'policy-clinic');
      return (await stack.db.execute<{ backup_type: string }>(sql`select distinct backup_type from backup_jobs where tenant_id = 'policy-clinic'`)).rows.map((r) => r.backup_type);
    };
    assert.deepEqual(await fire(['daily']), ['incremental']);
    assert.deepEqual(await fire(['daily', 'weekly']), ['incremental']);
    assert.deepEqual(await fire(['daily', 'monthly']), ['full']);

    const off = await strata(['policy', 'set', '--tier', 'premium', '--incremental', 'none', '--yes', '--json']);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(off.json.backup_types_change.after, { daily: 'full', weekly: 'full', monthly: 'full' });
    assert.deepEqual(await fire(['daily']), ['full']);
  });

  it('--files sets which origins include the tenant files: previewed, applied, audited, followed by the scheduler', async () => {
    assert.deepEqual((await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0].files_origins, []);
    const bad = await strata(['policy', 'set', '--tier', 'premium', '--files', 'yearly', '--yes', '--json']);
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /--files: .*yearly/);
    const dry = await strata(['policy', 'set', '--tier', 'premium', '--files', 'weekly', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual([dry.json.files_origins_change.before, dry.json.files_origins_change.after], [[], ['weekly']]);
    assert.deepEqual((await strata(['policy', 'show', '--tier', 'premium', '--json'])).json.policies[0].files_origins, [], 'a dry run writes nothing');
    const set = await strata(['policy', 'set', '--tier', 'premium', '--files', 'weekly', '--yes']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /include the tenant's files none {2}→ {2}weekly \(saved, audited\)/);
    const audit = (await stack.db.execute<{ details: { after: string[] } }>(sql`
      select details from audit_log where action = 'policy.files_origins' and target = 'premium'`)).rows;
    assert.deepEqual(audit.map((a) => a.details.after), [['weekly']]);

    // A point that stands for a files origin includes them; one that does not, not.
    const fire = async (types: string[]) => {
      await stack.db.execute(sql`delete from backup_jobs where tenant_id = 'policy-clinic'`);
      await stack.db.execute(sql`update backup_schedules set next_run_at = case when schedule_type in (select jsonb_array_elements_text(${JSON.stringify(types)}::jsonb)) then now() - interval '1 minute' else now() + interval '30 days' end where tenant_id = 'policy-clinic'`);
      await fireTenant(stack.db, stack.config, 'policy-clinic');
      return (await stack.db.execute<{ include_files: boolean }>(sql`select distinct include_files from backup_jobs where tenant_id = 'policy-clinic'`)).rows.map((r) => r.include_files);
    };
    assert.deepEqual(await fire(['daily']), [false]);
    assert.deepEqual(await fire(['daily', 'weekly']), [true]);
    await strata(['policy', 'set', '--tier', 'premium', '--files', 'none', '--yes']);
    assert.deepEqual(await fire(['daily', 'weekly']), [false]);
  });

  it('cost simulate: --preset, --compare and a snake_case summary', async () => {
    const r = await strata(['cost', 'simulate', '--tenants', '2', '--size-gb', '5', '--tier', 'premium', '--months', '14', '--preset', 'cost-optimized', '--compare', '--restores-per-month', '1', '--drills', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.json.summary;
    assert.deepEqual(s.presets.map((p: { preset: string }) => p.preset), ['cost-optimized', 'seed']);
    assert.equal(s.months_averaged, 12);
    assert.ok(s.steady_state_savings_percent > s.presets[1].steady_state_savings_percent, 'cost-optimized saves more than seed');
    assert.ok(s.restore_and_drill_dollars_per_month > 0, 'downloads are priced');
    // `policy` predates this change and keeps its shape (fields are added, never renamed); the rest is snake_case.
    const { policy: _policy, ...rest } = r.json;
    const keys = JSON.stringify(rest).match(/"([^"]+)":/g)!.map((k) => k.slice(1, -2));
    assert.deepEqual(keys.filter((k) => !/^[a-z0-9_]+$/.test(k)), [], 'snake_case keys');
    const bad = await strata(['cost', 'simulate', '--tenants', '1', '--size-gb', '1', '--tier', 'premium', '--months', '2', '--preset', 'nope', '--json']);
    assert.equal(bad.code, 2);
  });

  it("cost simulate: cost-optimized's incremental dailies priced at --daily-change-percent, beside --incremental none", async () => {
    const args = ['cost', 'simulate', '--tenants', '2', '--size-gb', '5', '--tier', 'premium', '--months', '14', '--preset', 'cost-optimized', '--json'];
    const full = await strata([...args, '--incremental', 'none']);
    const inc = await strata([...args, '--daily-change-percent', '2']);
    assert.equal(inc.code, 0, inc.stderr);
    assert.deepEqual([inc.json.incremental_origins, inc.json.daily_change_percent], [['daily'], 2]);
    assert.deepEqual(full.json.incremental_origins, []);
    assert.ok(inc.json.summary.steady_state_savings_percent > full.json.summary.steady_state_savings_percent, 'incremental dailies store less');
    assert.equal(inc.json.summary.all_standard_monthly_dollars, full.json.summary.all_standard_monthly_dollars, 'against the same full-dump baseline');
    const weekly = await strata([...args, '--daily-change-percent', '2', '--incremental', 'daily,weekly']);
    assert.deepEqual(weekly.json.incremental_origins, ['daily', 'weekly']);
    assert.ok(weekly.json.summary.steady_state_savings_percent > inc.json.summary.steady_state_savings_percent);
    for (const wrong of [['--daily-change-percent', '150'], ['--daily-change-percent', '-1'], ['--incremental', 'yearly']]) {
      const r = await strata([...args, ...wrong]);
      assert.equal(r.code, 2, wrong.join(' '));
    }
  });
});
