// The fleet simulation checked against figures worked out by hand from the rules: premium keeps
// 7 dailies + 4 weeklies + 12 monthlies; prune runs every hour on the hour and lists the buckets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { simulateCompare, simulateFleet } from './simulate.ts';

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} ≠ ${expected}`);
const B2_GB_PER_GIB = 2 ** 30 / 1e9; // B2 bills decimal GB, sizes are in 2^30-byte GB

describe('simulateFleet', () => {
  // One 10 GB tenant in UTC with window 1 (offset 0): daily 02:00, Sunday 03:00, the 1st 04:00,
  // from 2026-01-01 for 14 months. Month 14 is February 2027: 28 days = 672 h, Sundays 7, 14, 21, 28.
  const premium = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1 });
  const feb = premium.months[13]!;

  it('premium at steady state stores 7 dailies, 4 weeklies and 12 monthlies', () => {
    // At 2027-03-01 00:00: dailies Feb 22 … 28 (Feb 21's expired and went Feb 28 02:00); weeklies
    // Feb 7, 14, 21, 28 (Jan 31's went Feb 28 03:00); monthlies Mar 2026 … Feb 2027 (Feb 2026's
    // went 2027-02-01 04:00).
    assert.equal(feb.month, '2027-02');
    assert.deepEqual(feb.backups_stored, { s3_standard: 7, s3_ia: 4, b2_cold: 12 });
    assert.deepEqual(feb.stored_gb, { s3_standard: 70, s3_ia: 40, b2_cold: 120 });
    assert.equal(premium.steady_state.reached, true);
    assert.equal(simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 12 }).steady_state.reached, false);
  });

  it('premium February bill, by hand', () => {
    // Prune runs every hour on the hour; a copy expiring on the hour goes in that run, while the
    // copy completing at the same instant is already stored:
    // - 7 dailies held at every instant → 10 × 7 = 70 GB-months;
    // - 4 weeklies held at every instant → 40 GB-months; each lives 28 days, 48 h short of
    //   Standard-IA's 30: 4 deletions in February (Feb 7, 14, 21, 28 at 03:00) × 10 GB × 48/672
    //   early-deletion GB-months;
    // - 12 monthlies held at every instant → 120 GiB-months = 128.85 B2 GB-months (× 2^30/10^9).
    const early = (10 * 4 * 48) / 672;
    close(feb.billed_gb_months.s3_standard, 70, 'standard');
    close(feb.billed_gb_months.s3_ia, 40, 'ia');
    close(feb.billed_gb_months.b2_cold, 120 * B2_GB_PER_GIB, 'b2');
    // PUTs: a 10 GiB dump in 16 MiB parts is 640 parts + create + complete, plus manifest and
    // signature = 644 PUTs; 28 dailies × $0.005/1000, 4 weeklies × $0.01/1000; B2 uploads are free.
    // Prune lists each prefix it deletes: 28 dailies, 4 weeklies and 1 monthly (Feb 1) deleted in
    // February (B2's list is a class C call at $0.004/1000); and each of February's 672 runs lists
    // the S3 bucket (Standard and IA, < 1,000 objects: one LIST) and the B2 bucket (one class C).
    const runs = 672;
    const hybrid =
      70 * 0.023 + (40 + early) * 0.0125 + 120 * B2_GB_PER_GIB * 0.006 +
      (644 * (28 * 0.005 + 4 * 0.01)) / 1000 + (28 * 0.005 + 4 * 0.01 + 0.004) / 1000 + (runs * (0.005 + 0.004)) / 1000;
    // The same objects for the same time on S3 Standard: no minimum duration, 33 × 644 PUTs, 33
    // LISTs for the deletions and one bucket listed 672 times.
    const standard = (70 + 40 + 120) * 0.023 + (33 * 644 * 0.005) / 1000 + (33 * 0.005) / 1000 + (runs * 0.005) / 1000;
    close(feb.hybrid_dollars, hybrid, 'hybrid');
    close(feb.all_standard_dollars, standard, 'standard');
    close(feb.savings_percent, ((standard - hybrid) / standard) * 100, 'savings');
  });

  it('advanced: 12 monthlies on B2 against Standard saves ≈ 72 %', () => {
    const r = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'advanced', months: 14, windowMinutes: 1 });
    const m = r.months[13]!;
    assert.deepEqual(m.backups_stored, { s3_standard: 0, s3_ia: 0, b2_cold: 12 });
    // One class C list (the pruned monthly); 672 runs list the (empty) S3 bucket and the B2 bucket.
    const hybrid = 120 * B2_GB_PER_GIB * 0.006 + 0.004 / 1000 + (672 * (0.005 + 0.004)) / 1000;
    // One monthly's 644 PUTs in February, one LIST for its deletion, one bucket listed 672 times.
    const standard = 120 * 0.023 + (644 * 0.005 + 0.005) / 1000 + (672 * 0.005) / 1000;
    close(m.savings_percent, ((standard - hybrid) / standard) * 100); // ≈ 71.8 %
  });

  it('basic: no schedules, nothing stored; prune still lists the buckets', () => {
    const r = simulateFleet({ tenants: 3, sizeGb: 10, plan: 'basic', months: 2 });
    assert.deepEqual(r.steady_state.stored_gb, { s3_standard: 0, s3_ia: 0, b2_cold: 0 });
    // February 2026: 672 runs, each listing the S3 and B2 buckets once (one bucket for the baseline).
    close(r.steady_state.hybrid_dollars, (672 * (0.005 + 0.004)) / 1000, 'listings');
    close(r.steady_state.all_standard_dollars, (672 * 0.005) / 1000, 'baseline listings');
  });

  it('growth compounds per month; counts hold in any zone and offset', () => {
    // 10 %/month from January (index 0): February 2027 is index 13. Stored at its end: 7 dailies
    // and 4 weeklies made in February (10 × 1.1^13 each), monthlies of Mar 2026 … Feb 2027
    // (indexes 2 … 13). Two tenants in Berlin with the default 120-minute window.
    const r = simulateFleet({ tenants: 2, sizeGb: 10, growthPctPerMonth: 10, plan: 'premium', months: 14, timeZone: 'Europe/Berlin' });
    const m = r.months[13]!;
    assert.deepEqual(m.backups_stored, { s3_standard: 14, s3_ia: 8, b2_cold: 24 });
    const gib = (i: number) => Math.round(10 * 1.1 ** i * 2 ** 30) / 2 ** 30; // whole bytes
    close(m.stored_gb.s3_standard, 2 * 7 * gib(13));
    close(m.stored_gb.s3_ia, 2 * 4 * gib(13));
    let monthlies = 0;
    for (let i = 2; i <= 13; i++) monthlies += gib(i);
    assert.ok(Math.abs(m.stored_gb.b2_cold - 2 * monthlies) < 1e-6);
  });

  it('cost-optimized premium with full dailies: one hot copy, everything retained in B2', () => {
    const co = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1, layout: 'cost-optimized', incrementalOrigins: [] });
    const m = co.months[13]!;
    // At Mar 1 00:00: Feb 28's S3 copy (Feb 27's expired and went Feb 28 02:00); in B2 the same
    // 7 dailies, 4 weeklies and 12 monthlies the seed layout keeps.
    assert.deepEqual(m.backups_stored, { s3_standard: 1, s3_ia: 0, b2_cold: 23 });
    // A hot copy lives 02:00 D → 02:00 D+1, when the next one completes: one held at every instant.
    close(m.billed_gb_months.s3_standard, 10, 'hot copies');
    // The baseline is the same backup points in S3 Standard: equal to the seed layout's.
    const seed = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1 });
    close(m.all_standard_dollars, seed.months[13]!.all_standard_dollars, 'baseline');
    assert.ok(m.hybrid_dollars < seed.months[13]!.hybrid_dollars);
    // summary: the mean of the last 12 months; --compare adds the other preset.
    const mean = co.months.slice(-12).reduce((n, x) => n + x.savings_percent, 0) / 12;
    close(co.summary.steady_state_savings_percent, mean, 'mean');
    const both = simulateCompare({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1, layout: 'cost-optimized', incrementalOrigins: [] });
    assert.deepEqual(both.summary.presets.map((p) => p.preset), ['cost-optimized', 'seed']);
    close(both.summary.presets[1]!.steady_state_savings_percent, seed.summary.steady_state_savings_percent, 'seed beside it');
  });

  it('a preset is priced with its own backup types: cost-optimized has incremental dailies, seed none, unless named', () => {
    const base = { tenants: 1, sizeGb: 10, plan: 'premium' as const, months: 14, windowMinutes: 1 };
    const co = simulateFleet({ ...base, layout: 'cost-optimized' });
    assert.deepEqual([co.incremental_origins, co.summary.incremental_origins], [['daily'], ['daily']]);
    const coFull = simulateFleet({ ...base, layout: 'cost-optimized', incrementalOrigins: [] });
    assert.deepEqual(coFull.incremental_origins, []);
    assert.ok(co.summary.steady_state_monthly_dollars < coFull.summary.steady_state_monthly_dollars, 'incremental dailies store less');
    close(co.summary.all_standard_monthly_dollars, coFull.summary.all_standard_monthly_dollars, 'against the same full-dump baseline');
    assert.deepEqual(simulateFleet(base).incremental_origins, [], 'seed: full backups');
    // --compare: each preset with its own types, unless the input names them for all.
    const own = simulateCompare({ ...base, layout: 'cost-optimized' }).summary.presets;
    assert.deepEqual(own.map((p) => [p.preset, p.incremental_origins]), [['cost-optimized', ['daily']], ['seed', []]]);
    const named = simulateCompare({ ...base, layout: 'seed', incrementalOrigins: ['daily', 'weekly'] }).summary.presets;
    assert.deepEqual(named.map((p) => [p.preset, p.incremental_origins]), [['seed', ['daily', 'weekly']], ['cost-optimized', ['daily', 'weekly']]]);
  });

  it('restores read the newest point\'s best copy; B2 egress is free within 3x stored, S3 egress is not', () => {
    // Two restores in February 2027, at Feb 7 12:00 and Feb 21 12:00 (both Sundays): the newest
    // point is that day's weekly (03:00). Cost-optimized reads its B2 copy; the all-Standard
    // baseline reads the same backup point from S3 Standard.
    const base = { tenants: 1, sizeGb: 10, plan: 'premium' as const, months: 14, windowMinutes: 1, layout: 'cost-optimized' as const };
    const quiet = simulateFleet(base).months[13]!;
    const busy = simulateFleet({ ...base, restoresPerMonth: 2 }).months[13]!;
    close(busy.hybrid_dollars - quiet.hybrid_dollars, (6 * 0.0004) / 1000, 'B2: 6 class B calls, egress free');
    close(busy.all_standard_dollars - quiet.all_standard_dollars, 2 * 10 * 0.09 + (6 * 0.0004) / 1000, 'S3: 20 GB out + 6 GETs');
  });

  it('incremental dailies, by hand: a chain stores the newest dump once plus what changed each day', () => {
    // Seed premium, dailies incremental, 1 % of the data changing a day. The dailies (02:00 every day)
    // form one chain in S3 Standard: at every instant in February the newest copy holds the whole
    // 10 GB (part of it handed on to the next), each of the 6 older ones only the 1 % the next one
    // no longer holds: 10 + 6 × 0.1 = 10.6 GB. Weeklies and monthlies stay full.
    const inc = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1, incrementalOrigins: ['daily'], dailyChangePercent: 1 });
    const m = inc.months[13]!;
    assert.deepEqual(inc.incremental_origins, ['daily']);
    assert.deepEqual(m.backups_stored, feb.backups_stored, 'the same copies are kept');
    close(m.stored_gb.s3_standard, 10.6, 'stored');
    close(m.billed_gb_months.s3_standard, 10.6, 'billed');
    close(m.billed_gb_months.s3_ia, feb.billed_gb_months.s3_ia, 'weeklies unchanged');
    close(m.billed_gb_months.b2_cold, feb.billed_gb_months.b2_cold, 'monthlies unchanged');
    // Each daily uploads its 1 % in 1 MiB chunks (102.4 MiB: 103 PUTs) plus manifest and signature,
    // instead of 644 PUTs; the baseline still keeps full dumps.
    close(m.all_standard_dollars, feb.all_standard_dollars, 'baseline');
    const early = (10 * 4 * 48) / 672;
    const hybrid =
      10.6 * 0.023 + (40 + early) * 0.0125 + 120 * B2_GB_PER_GIB * 0.006 +
      (28 * 105 * 0.005 + 4 * 644 * 0.01) / 1000 + (28 * 0.005 + 4 * 0.01 + 0.004) / 1000;
    // Listings: the S3 bucket now holds the chunks too: 10.6 GiB in 1 MiB chunks is > 1,000 objects
    // (11 LISTs a run at most); checked as a range rather than re-deriving every hour.
    const listings = m.hybrid_dollars - hybrid;
    assert.ok(listings > (672 * (0.005 + 0.004)) / 1000 && listings < (672 * (12 * 0.005 + 0.004)) / 1000, `listings ${listings}`);
    assert.ok(m.savings_percent > feb.savings_percent);
  });

  it('incremental copies more than the base keep apart are each a whole upload: monthlies gain nothing', () => {
    const full = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'advanced', months: 14, windowMinutes: 1 }).months[13]!;
    const inc = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'advanced', months: 14, windowMinutes: 1, incrementalOrigins: ['monthly'] }).months[13]!;
    close(inc.stored_gb.b2_cold, full.stored_gb.b2_cold);
    close(inc.billed_gb_months.b2_cold, full.billed_gb_months.b2_cold);
    // With no change at all a daily chain stores one dump: the newest; the older ones hold nothing.
    const still = simulateFleet({ tenants: 1, sizeGb: 10, plan: 'premium', months: 14, windowMinutes: 1, incrementalOrigins: ['daily'], dailyChangePercent: 0 }).months[13]!;
    close(still.stored_gb.s3_standard, 10);
  });

  it('refuses nonsense input', () => {
    assert.throws(() => simulateFleet({ tenants: 0, sizeGb: 10, plan: 'premium', months: 1 }), RangeError);
    assert.throws(() => simulateFleet({ tenants: 1, sizeGb: 0, plan: 'premium', months: 1 }), RangeError);
    assert.throws(() => simulateFleet({ tenants: 1, sizeGb: 1, plan: 'premium', months: 1, start: new Date('2026-01-02T00:00:00Z') }), RangeError);
  });
});
