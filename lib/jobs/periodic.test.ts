// Periodic tasks on a real database: one winner among workers claiming at once, no second run within
// the period, a new run once the period has passed, results kept per task, nothing in the audit log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { getDb } from '../db/client.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { claimPeriodic, recordPeriodicResult } from './periodic.ts';

describe('periodic tasks', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('one of eight workers claiming at once wins; none again within the period; one again after it', async () => {
    const pools = Array.from({ length: 8 }, (_, i) => getDb(`${stack.config.DATABASE_URL}?application_name=periodic${i}`));
    const first = await Promise.all(pools.map((db, i) => claimPeriodic(db, 'prune', 3600, `worker:w${i}`)));
    assert.equal(first.filter(Boolean).length, 1);
    const again = await Promise.all(pools.map((db, i) => claimPeriodic(db, 'prune', 3600, `worker:w${i}`)));
    assert.equal(again.filter(Boolean).length, 0);
    // Another task is independent of the first.
    assert.equal(await claimPeriodic(stack.db, 'drill', 3600, 'worker:w0'), true);
    // The period passes (the run is moved an hour and a second into the past).
    await stack.db.execute(sql`update periodic_runs set last_run_at = last_run_at - interval '3601 seconds' where task = 'prune'`);
    const later = await Promise.all(pools.map((db, i) => claimPeriodic(db, 'prune', 3600, `worker:w${i}`)));
    assert.equal(later.filter(Boolean).length, 1);
    const audit = await stack.db.execute<{ n: number }>(sql`select count(*)::int n from audit_log where action like 'worker.%'`);
    assert.equal(audit.rows[0]!.n, 0, 'heartbeats of periodic tasks stay out of the audit log');
  });

  it('keeps the last result of the run that claimed it', async () => {
    assert.equal(await claimPeriodic(stack.db, 'undo-cleanup', 60, 'worker:a'), true);
    await recordPeriodicResult(stack.db, 'undo-cleanup', 'worker:a', { dropped: 2 });
    // A worker that did not claim the run cannot overwrite its result.
    await recordPeriodicResult(stack.db, 'undo-cleanup', 'worker:b', { dropped: 99 });
    const row = await stack.db.execute<{ last_result: unknown; last_run_by: string }>(
      sql`select last_result, last_run_by from periodic_runs where task = 'undo-cleanup'`,
    );
    assert.deepEqual(row.rows[0], { last_result: { dropped: 2 }, last_run_by: 'worker:a' });
  });
});
