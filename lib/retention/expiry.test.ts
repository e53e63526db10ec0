import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addCalendarMonthsUtc, expiryOf } from './expiry.ts';
import { SEEDED_POLICIES } from './policies.ts';

const opts = { manualRetentionDays: 30 };
const premium = SEEDED_POLICIES.premium;
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('expiryOf', () => {
  it('daily: N exact 24 h days after completion (a DST night in Berlin changes nothing: UTC)', () => {
    const completedAt = new Date('2026-03-28T01:10:00Z');
    assert.equal(iso(expiryOf({ origin: 'daily', completedAt }, premium, opts)), '2026-04-04T01:10:00.000Z');
  });

  it('weekly: N × 7 days', () => {
    const completedAt = new Date('2026-11-29T03:10:00Z');
    assert.equal(iso(expiryOf({ origin: 'weekly', completedAt }, premium, opts)), '2026-12-27T03:10:00.000Z');
  });

  it('monthly: N calendar months, same day and time', () => {
    const completedAt = new Date('2026-05-01T04:10:00Z');
    assert.equal(iso(expiryOf({ origin: 'monthly', completedAt }, premium, opts)), '2027-05-01T04:10:00.000Z');
  });

  it('manual: STRATA_MANUAL_RETENTION_DAYS, whatever the plan (even no policy)', () => {
    const completedAt = new Date('2026-12-15T10:10:00Z');
    assert.equal(iso(expiryOf({ origin: 'manual', completedAt }, null, opts)), '2027-01-14T10:10:00.000Z');
    assert.equal(
      iso(expiryOf({ origin: 'manual', completedAt }, SEEDED_POLICIES.basic, { manualRetentionDays: 90 })),
      '2027-03-15T10:10:00.000Z',
    );
  });

  it('a window of 0 for a scheduled origin expires at completion', () => {
    const completedAt = new Date('2026-06-01T04:10:00Z');
    // advanced is 0/0/12: a daily taken under it (e.g. policy edited later) has no daily window.
    assert.equal(iso(expiryOf({ origin: 'daily', completedAt }, SEEDED_POLICIES.advanced, opts)), iso(completedAt));
  });

  it('no policy for a scheduled backup: never expires (null), Strata does not guess', () => {
    const completedAt = new Date('2026-06-01T04:10:00Z');
    assert.equal(expiryOf({ origin: 'monthly', completedAt }, null, opts), null);
  });

  it('refuses negative or fractional windows', () => {
    const completedAt = new Date('2026-06-01T04:10:00Z');
    assert.throws(() => expiryOf({ origin: 'daily', completedAt }, { ...premium, dailyRetentionDays: -1 }, opts), RangeError);
    assert.throws(() => expiryOf({ origin: 'manual', completedAt }, null, { manualRetentionDays: 1.5 }), RangeError);
  });
});

describe('addCalendarMonthsUtc: clamped to the month end', () => {
  const cases: [string, number, string][] = [
    ['2026-01-31T04:10:00.000Z', 1, '2026-02-28T04:10:00.000Z'], // Jan 31 + 1 month = Feb 28
    ['2028-01-31T04:10:00.000Z', 1, '2028-02-29T04:10:00.000Z'], // … = Feb 29 in a leap year
    ['2028-02-29T17:10:00.000Z', 12, '2029-02-28T17:10:00.000Z'], // leap day + 1 year
    ['2028-02-29T17:10:00.000Z', 48, '2032-02-29T17:10:00.000Z'], // … lands on a leap day again
    ['2026-03-31T00:00:00.000Z', 1, '2026-04-30T00:00:00.000Z'],
    ['2026-08-31T12:00:00.000Z', 6, '2027-02-28T12:00:00.000Z'],
    ['2026-12-31T23:59:59.999Z', 2, '2027-02-28T23:59:59.999Z'], // crosses the year, keeps ms
    ['2026-11-30T04:10:00.000Z', 3, '2027-02-28T04:10:00.000Z'],
    ['2026-02-28T04:10:00.000Z', 1, '2026-03-28T04:10:00.000Z'], // not sticky: not Mar 31
    ['2026-01-30T04:10:00.000Z', 1, '2026-02-28T04:10:00.000Z'],
    ['2026-12-01T04:10:00.000Z', 1, '2027-01-01T04:10:00.000Z'],
    ['2026-05-15T04:10:00.000Z', 0, '2026-05-15T04:10:00.000Z'],
  ];
  for (const [from, n, want] of cases) {
    it(`${from} + ${n} month(s) = ${want}`, () => {
      assert.equal(addCalendarMonthsUtc(new Date(from), n).toISOString(), want);
    });
  }

  it('a monthly completed on Jan 31 UTC (Sydney: Feb 1 04:00 AEDT) with a 1-month policy', () => {
    const completedAt = new Date('2028-01-31T17:10:00Z');
    const policy = { dailyRetentionDays: 0, weeklyRetentionWeeks: 0, monthlyRetentionMonths: 1 };
    assert.equal(iso(expiryOf({ origin: 'monthly', completedAt }, policy, opts)), '2028-02-29T17:10:00.000Z');
  });
});
