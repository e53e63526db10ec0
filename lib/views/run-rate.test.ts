import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { withPrices } from '../cost/prices.ts';
import { parseMonth, pricesFromConfig } from '../cost/billing.ts';
import { runRate } from './run-rate.ts';

const GiB = 2 ** 30;
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} ≉ ${b}`);

describe('run-rate cost of the stored backups', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
    const add = (tenant: string, tier: string, bytes: number, completed: string, deleted: string | null) =>
      stack.db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, status, backup_size_bytes, started_at, completed_at, deleted_at)
        values (${tenant}, ${tier}, ${deleted ? 'deleted' : 'completed'}, ${bytes}, ${completed}, ${completed}, ${deleted})`);
    // November 2026 has 30 days. Stored all month: 100 GiB in S3 Standard (t1), 100 GiB in IA (t1),
    // 100 GB (decimal, as B2 bills) in B2 (t2). An IA object of 10 GiB stored Nov 1, deleted Nov 11:
    // 10 days stored + 20 days early-deletion charge.
    await add('t1', 's3_standard', 100 * GiB, '2026-10-15T00:00:00Z', null);
    await add('t1', 's3_ia', 100 * GiB, '2026-10-15T00:00:00Z', null);
    await add('t2', 'b2_cold', 100e9, '2026-10-01T00:00:00Z', null);
    await add('t2', 's3_ia', 10 * GiB, '2026-11-01T00:00:00Z', '2026-11-11T00:00:00Z');
    // Gone before the month: not billed.
    await add('t2', 's3_standard', 50 * GiB, '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z');
  });
  after(async () => stack?.stop());

  it('bills each tier as the providers do and compares with all-Standard', async () => {
    const r = await runRate(stack.db, parseMonth('2026-11'), withPrices(), new Date('2026-11-20T00:00:00Z'));
    close(r.tiers.s3_standard.dollars, 100 * 0.023);
    // IA: 100 GiB all month + 10 GiB for 10 of 30 days + 20 days early deletion = 110 GiB-months' worth.
    close(r.tiers.s3_ia.gb_months, 100 + 10 / 3);
    close(r.tiers.s3_ia.early_deletion_dollars, (10 * 20) / 30 * 0.0125);
    close(r.tiers.s3_ia.dollars, 110 * 0.0125 + (2 * 0.01) / 1000); // + the one IA PUT made in November and prune's LIST of it
    close(r.tiers.b2_cold.dollars, 100 * 0.006);
    // Objects alive now: 3 (the deleted IA object is not counted as stored).
    assert.equal(r.tiers.s3_ia.objects, 1);
    const standard = (100 + 100 + 10 / 3) * 0.023 + (100e9 / GiB) * 0.023 + (2 * 0.005) / 1000; // + one PUT and one LIST in November
    close(r.all_standard_dollars, standard);
    close(r.hybrid_dollars, 2.3 + 110 * 0.0125 + 0.6 + (2 * 0.01) / 1000);
    close(r.savings_percent, ((r.all_standard_dollars - r.hybrid_dollars) / r.all_standard_dollars) * 100);
    assert.deepEqual(r.tenants.map((t) => t.tenant_id), ['t1', 't2']);
    assert.equal(r.month, '2026-11');
  });

  it('counts the month\'s restore and verification downloads from the copy read', async () => {
    const month = parseMonth('2026-11');
    const before = await runRate(stack.db, month, withPrices(), new Date('2026-11-20T00:00:00Z'));
    const [ia] = (await stack.db.execute<{ id: string }>(sql`select id::text from backup_jobs where tenant_id = 't1' and storage_tier = 's3_ia'`)).rows;
    await stack.db.execute(sql`insert into restore_jobs (tenant_id, backup_id, copy_backup_id, mode, target_schema, status, completed_at)
      values ('t1', ${ia!.id}::uuid, ${ia!.id}::uuid, 'clone', 'read_back', 'completed', '2026-11-12T00:00:00Z')`);
    const afterRestore = await runRate(stack.db, month, withPrices(), new Date('2026-11-20T00:00:00Z'));
    // 100 GiB out of Standard-IA: retrieval $0.01/GB + egress $0.09/GB + 3 GETs at $0.001/1000.
    close(afterRestore.tiers.s3_ia.dollars - before.tiers.s3_ia.dollars, 100 * 0.01 + 100 * 0.09 + (3 * 0.001) / 1000);
    close(afterRestore.hybrid_dollars - before.hybrid_dollars, 100 * 0.01 + 100 * 0.09 + (3 * 0.001) / 1000);
    await stack.db.execute(sql`delete from restore_jobs`);
  });

  it('bills incremental copies as the chunks stored, against full dumps in the baseline', async () => {
    const month = parseMonth('2026-11');
    const now = new Date('2026-11-20T00:00:00Z');
    const before = await runRate(stack.db, month, withPrices(), now);
    // Two incremental copies of t3 in S3 Standard, 10 GiB each as a restore reads them; stored once
    // as chunks: 10 GiB with the first and 1 GiB more with the second, both before November.
    for (const day of ['2026-10-20', '2026-10-21']) {
      await stack.db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, status, backup_type, backup_size_bytes, started_at, completed_at)
        values ('t3', 's3_standard', 'completed', 'incremental', ${10 * GiB}, ${`${day}T00:00:00Z`}, ${`${day}T00:00:00Z`})`);
    }
    for (const [n, bytes, day] of [[1, 10 * GiB, '2026-10-20'], [2, GiB, '2026-10-21']] as const) {
      await stack.db.execute(sql`insert into chunks (tenant_id, storage_tier, chunk_mac, object_key, plain_bytes, stored_bytes, sha256_stored, created_at)
        values ('t3', 's3_standard', ${String(n).repeat(64)}, ${`backups/t3/chunks/${n}`}, ${bytes}, ${bytes}, ${'0'.repeat(64)}, ${`${day}T00:00:00Z`})`);
    }
    try {
      const after = await runRate(stack.db, month, withPrices(), now);
      close(after.tiers.s3_standard.gb_months - before.tiers.s3_standard.gb_months, 11);
      close(after.tiers.s3_standard.stored_bytes - before.tiers.s3_standard.stored_bytes, 11 * GiB);
      close(after.all_standard_dollars - before.all_standard_dollars, 20 * 0.023);
      const t3 = after.tenants.find((t) => t.tenant_id === 't3')!;
      close(t3.stored_bytes, 11 * GiB);
      close(t3.hybrid_dollars, 11 * 0.023);
    } finally {
      await stack.db.execute(sql`delete from chunks where tenant_id = 't3'`);
      await stack.db.execute(sql`delete from backup_jobs where tenant_id = 't3'`);
    }
  });

  it('takes price overrides from configuration and refuses a bad month', () => {
    assert.equal(pricesFromConfig('{"storage_per_gb_month":{"b2_cold":0.005}}').storage_per_gb_month.b2_cold, 0.005);
    assert.throws(() => parseMonth('2026-13'), /YYYY-MM/);
  });
});
