// Cost math checked against figures worked out by hand from the price table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allStandardCost, billingMonthOf, monthCost, savings, type StoredObject } from './model.ts';
import { DEFAULT_PRICES, GIB, withPrices } from './prices.ts';

const P = DEFAULT_PRICES;
const at = (iso: string) => new Date(iso);
const JUNE = billingMonthOf(at('2026-06-15T00:00:00Z')); // 30 days
const JULY = billingMonthOf(at('2026-07-15T00:00:00Z')); // 31 days
const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} ≠ ${expected}`);
const obj = (tier: StoredObject['tier'], bytes: number, from: string, to: string | null): StoredObject => ({
  tier,
  bytes,
  storedFrom: at(from),
  deletedAt: to ? at(to) : null,
});

describe('monthCost', () => {
  it('100 GB in Standard-IA for a whole month = 100 GB-months = $1.25', () => {
    const c = monthCost([obj('s3_ia', 100 * GIB, '2026-05-01T00:00:00Z', null)], JUNE, P);
    close(c.tiers.s3_ia.gb_months, 100);
    close(c.tiers.s3_ia.storage_dollars, 1.25);
    close(c.total_dollars, 1.25);
  });

  it('GB = 2^30 bytes on S3; B2 bills decimal GB (10^9)', () => {
    const c = monthCost(
      [obj('s3_standard', 100 * GIB, '2026-05-01T00:00:00Z', null), obj('b2_cold', 100e9, '2026-05-01T00:00:00Z', null)],
      JUNE,
      P,
    );
    close(c.tiers.s3_standard.storage_dollars, 2.3); // 100 × 0.023
    close(c.tiers.b2_cold.storage_dollars, 0.6); // 100 × 0.006
    // 100 GiB in B2 = 107.3741824 GB → × 0.006 = 0.6442450944
    close(monthCost([obj('b2_cold', 100 * GIB, '2026-05-01T00:00:00Z', null)], JUNE, P).total_dollars, 0.6442450944);
  });

  it('a 1 KB object in Standard-IA is billed as 128 KB', () => {
    const c = monthCost([obj('s3_ia', 1024, '2026-05-01T00:00:00Z', null)], JUNE, P);
    // 131,072 bytes = 1/8192 GiB → 0.0001220703125 GB-months × 0.0125 = 1.52587890625e-6
    close(c.tiers.s3_ia.gb_months, 1 / 8192);
    close(c.total_dollars, 0.0125 / 8192);
    // …but as 1 KB on Standard.
    close(monthCost([obj('s3_standard', 1024, '2026-05-01T00:00:00Z', null)], JUNE, P).tiers.s3_standard.gb_months, 1024 / GIB);
  });

  it('Standard-IA deleted after 10 days: 10 days stored + 20 days early-deletion charge', () => {
    const c = monthCost([obj('s3_ia', 100 * GIB, '2026-06-01T00:00:00Z', '2026-06-11T00:00:00Z')], JUNE, P).tiers.s3_ia;
    // June has 30 days: 100 × 10/30 = 33.333… GB-months stored, 100 × 20/30 = 66.666… early.
    close(c.gb_months, 100 / 3);
    close(c.early_deletion_gb_months, 200 / 3);
    close(c.storage_dollars, 1.25 / 3); // 0.41666…
    close(c.early_deletion_dollars, 2.5 / 3); // 0.83333…
    close(c.put_requests, 1);
    close(c.list_requests, 1); // prune lists the prefix it deletes
    close(c.total_dollars, 1.25 + 0.01 / 1000 + 0.01 / 1000); // = a full 30 days + one IA PUT + one LIST
  });

  it('the early-deletion charge falls in the month of deletion', () => {
    // Stored Jun 20, deleted Jul 5: 15 days lived, 15 short of 30.
    const o = [obj('s3_ia', 100 * GIB, '2026-06-20T00:00:00Z', '2026-07-05T00:00:00Z')];
    const june = monthCost(o, JUNE, P).tiers.s3_ia;
    close(june.gb_months, (100 * 11) / 30); // Jun 20 → Jul 1 = 11 days
    close(june.early_deletion_gb_months, 0);
    const july = monthCost(o, JULY, P).tiers.s3_ia;
    close(july.gb_months, (100 * 4) / 31); // Jul 1 → Jul 5
    close(july.early_deletion_gb_months, (100 * 15) / 31);
    close(july.put_requests, 0); // the PUT was in June
  });

  it('no minimum duration on Standard or B2', () => {
    const c = monthCost(
      [obj('s3_standard', 100 * GIB, '2026-06-01T00:00:00Z', '2026-06-04T00:00:00Z'), obj('b2_cold', 100e9, '2026-06-01T00:00:00Z', '2026-06-04T00:00:00Z')],
      JUNE,
      P,
    );
    close(c.tiers.s3_standard.total_dollars, 2.3 / 10 + (2 * 0.005) / 1000); // 3/30 of a month + 1 PUT + 1 LIST
    close(c.tiers.b2_cold.total_dollars, 0.6 / 10 + 0.004 / 1000); // B2 uploads are free; one class C list
  });

  it('requests, retrieval and egress', () => {
    const objects = Array.from({ length: 1000 }, () => obj('s3_ia', 1e6, '2026-06-02T00:00:00Z', null));
    const c = monthCost(objects, JUNE, P, [
      { tier: 's3_ia', bytes: 10 * GIB, at: at('2026-06-10T00:00:00Z') }, // restore out of AWS
      { tier: 's3_ia', bytes: 10 * GIB, at: at('2026-06-11T00:00:00Z'), egress: false }, // in-region verify
      { tier: 'b2_cold', bytes: 10e9, at: at('2026-06-12T00:00:00Z') },
      { tier: 's3_standard', bytes: 10 * GIB, at: at('2026-07-01T00:00:00Z') }, // next month
    ]);
    close(c.tiers.s3_ia.request_dollars, 0.01 + (6 * 0.001) / 1000); // 1000 PUTs × $0.01/1000 + 2 reads × 3 GETs
    close(c.tiers.s3_ia.retrieval_dollars, 0.2); // 20 GB × $0.01
    close(c.tiers.s3_ia.egress_dollars, 0.9); // 10 GB × $0.09
    close(c.tiers.b2_cold.egress_dollars, 0.1); // 10 GB × $0.01: nothing stored in B2, so no free allowance
    close(c.tiers.b2_cold.request_dollars, (3 * 0.0004) / 1000); // 3 class B downloads
    close(c.tiers.s3_standard.total_dollars, 0);
  });

  it('B2 egress is free up to 3× the average stored in the month', () => {
    // 10 GB stored all June; 35 GB downloaded: 30 GB free, 5 GB at $0.01.
    const stored = [obj('b2_cold', 10e9, '2026-05-01T00:00:00Z', null)];
    const reads = [{ tier: 'b2_cold' as const, bytes: 35e9, at: at('2026-06-10T00:00:00Z'), requests: 1 }];
    const c = monthCost(stored, JUNE, P, reads).tiers.b2_cold;
    close(c.egress_dollars, 5 * 0.01);
    close(monthCost(stored, JUNE, P, [{ ...reads[0]!, bytes: 30e9 }]).tiers.b2_cold.egress_dollars, 0);
    // S3 has no allowance: every GB out is billed.
    const s3 = monthCost([obj('s3_standard', 10 * GIB, '2026-05-01T00:00:00Z', null)], JUNE, P, [{ tier: 's3_standard', bytes: GIB, at: at('2026-06-10T00:00:00Z') }]);
    close(s3.tiers.s3_standard.egress_dollars, 0.09);
  });

  it('allStandardCost and savings: a short-lived IA object costs more than on Standard', () => {
    const o = [obj('s3_ia', 100 * GIB, '2026-06-01T00:00:00Z', '2026-06-11T00:00:00Z')];
    const hybrid = monthCost(o, JUNE, P); // 1.25 + PUT 0.00001 + LIST 0.00001
    const std = allStandardCost(o, JUNE, P); // 100 × 10/30 × 0.023 + PUT and LIST 0.00001 = 0.766676666…
    close(std.total_dollars, 2.3 / 3 + 0.01 / 1000);
    const s = savings(hybrid, std);
    close(s.dollars, 2.3 / 3 + 0.00001 - 1.25002);
    close(s.percent, ((2.3 / 3 + 0.00001 - 1.25002) / (2.3 / 3 + 0.00001)) * 100); // ≈ −63 %
    assert.deepEqual(savings(monthCost([], JUNE, P), monthCost([], JUNE, P)), { dollars: 0, percent: 0 });
  });

  it('withPrices overrides single figures and validates them', () => {
    const p = withPrices({ storage_per_gb_month: { b2_cold: 0.005 }, as_of: '2026-01-01' });
    assert.equal(p.storage_per_gb_month.b2_cold, 0.005);
    assert.equal(p.storage_per_gb_month.s3_ia, 0.0125);
    assert.equal(p.as_of, '2026-01-01');
    assert.equal(DEFAULT_PRICES.storage_per_gb_month.b2_cold, 0.006); // default untouched
    assert.throws(() => withPrices({ egress_per_gb: { s3_ia: -1 } }), RangeError);
    assert.throws(() => withPrices({ bytes_per_gb: { b2_cold: 0 } }), RangeError);
  });
});
