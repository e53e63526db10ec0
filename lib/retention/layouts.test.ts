// Copy layouts, planning and per-copy expiry, written by hand from design.md "Retention".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEDULE_STORAGE } from '../domain.ts';
import { expiryOf } from './expiry.ts';
import { copiesFor, copyExpiry, planCopies, storesFor } from './layouts.ts';
import { pruneDecisions, type PruneCandidate } from './decisions.ts';
import { SEEDED_POLICIES } from './policies.ts';

const premium = SEEDED_POLICIES.premium;
const at = new Date('2026-03-01T02:10:00Z'); // a Sunday, the 1st
const iso = (d: Date | null) => d?.toISOString() ?? null;
const OPTS = { manualRetentionDays: 30 };

describe('copy layouts', () => {
  it('seed is the tier table: one copy per origin in SCHEDULE_STORAGE, for the window', () => {
    assert.deepEqual(copiesFor('seed', premium), {
      daily: [{ storage_tier: 's3_standard', keep: { days: 7 } }],
      weekly: [{ storage_tier: 's3_ia', keep: { days: 28 } }],
      monthly: [{ storage_tier: 'b2_cold', keep: { months: 12 } }],
    });
    for (const [origin, tier] of Object.entries(SCHEDULE_STORAGE)) {
      assert.equal(copiesFor('seed', premium)[origin as 'daily'][0]!.storage_tier, tier);
    }
    assert.deepEqual(copiesFor('seed', SEEDED_POLICIES.advanced), { daily: [], weekly: [], monthly: [{ storage_tier: 'b2_cold', keep: { months: 12 } }] });
  });

  it('cost-optimized: the newest daily hot for a day, every retained copy in B2', () => {
    assert.deepEqual(copiesFor('cost-optimized', premium), {
      daily: [
        { storage_tier: 's3_standard', keep: { days: 1 } },
        { storage_tier: 'b2_cold', keep: { days: 7 } },
      ],
      weekly: [{ storage_tier: 'b2_cold', keep: { days: 28 } }],
      monthly: [{ storage_tier: 'b2_cold', keep: { months: 12 } }],
    });
    assert.deepEqual(storesFor('cost-optimized', premium), ['s3_standard', 'b2_cold']);
    assert.deepEqual(storesFor('seed', premium), ['s3_standard', 's3_ia', 'b2_cold']);
    assert.deepEqual(copiesFor('cost-optimized', SEEDED_POLICIES.basic), { daily: [], weekly: [], monthly: [] });
  });
});

describe('planCopies', () => {
  it('seed never merges: the rows it always planned', () => {
    const plan = planCopies(['daily', 'weekly', 'monthly'], { ...premium, layout: 'seed' }, at);
    assert.deepEqual(plan.map((c) => [c.storageTier, c.origin]), [['s3_standard', 'daily'], ['s3_ia', 'weekly'], ['b2_cold', 'monthly']]);
  });

  it('cost-optimized: coinciding copies in one tier become one object with the longest keep', () => {
    const daily = planCopies(['daily'], { ...premium, layout: 'cost-optimized' }, at);
    assert.deepEqual(daily, [
      { storageTier: 's3_standard', origin: 'daily', keep: { days: 1 } },
      { storageTier: 'b2_cold', origin: 'daily', keep: { days: 7 } },
    ]);
    const sunday = planCopies(['daily', 'weekly'], { ...premium, layout: 'cost-optimized' }, at);
    assert.deepEqual(sunday, [
      { storageTier: 's3_standard', origin: 'daily', keep: { days: 1 } },
      { storageTier: 'b2_cold', origin: 'weekly', keep: { days: 28 } },
    ]);
    const first = planCopies(['daily', 'weekly', 'monthly'], { ...premium, layout: 'cost-optimized' }, at);
    assert.deepEqual(first.map((c) => [c.storageTier, c.origin]), [['s3_standard', 'daily'], ['b2_cold', 'monthly']]);
  });

  it('longest is measured in time: 5 weeks (35 days) beat 1 month from Feb 1 (28 days)', () => {
    const feb1 = new Date('2026-02-01T02:00:00Z');
    const plan = planCopies(['weekly', 'monthly'], { dailyRetentionDays: 0, weeklyRetentionWeeks: 5, monthlyRetentionMonths: 1, layout: 'cost-optimized' }, feb1);
    assert.deepEqual(plan, [{ storageTier: 'b2_cold', origin: 'weekly', keep: { days: 35 } }]);
    const mar1 = new Date('2026-03-01T02:00:00Z'); // 1 month = 31 days < 35
    const w4 = planCopies(['weekly', 'monthly'], { dailyRetentionDays: 0, weeklyRetentionWeeks: 4, monthlyRetentionMonths: 1, layout: 'cost-optimized' }, mar1);
    assert.deepEqual(w4, [{ storageTier: 'b2_cold', origin: 'monthly', keep: { months: 1 } }]);
  });
});

describe('copyExpiry', () => {
  it('seed (and rows from before layouts) expire exactly as expiryOf', () => {
    for (const origin of ['daily', 'weekly', 'monthly', 'manual'] as const) {
      const tier = origin === 'manual' ? 's3_standard' : SCHEDULE_STORAGE[origin];
      for (const layout of ['seed', null] as const) {
        assert.equal(
          iso(copyExpiry({ origin, storageTier: tier, layout, completedAt: at }, premium, OPTS)),
          iso(expiryOf({ origin, completedAt: at }, premium, OPTS)),
          `${origin} ${layout}`,
        );
      }
    }
  });

  it('each cost-optimized copy by its own keep; an unknown (origin, tier) falls back to the window', () => {
    const e = (origin: 'daily' | 'weekly' | 'monthly', storageTier: 's3_standard' | 's3_ia' | 'b2_cold') =>
      iso(copyExpiry({ origin, storageTier, layout: 'cost-optimized', completedAt: at }, premium, OPTS));
    assert.equal(e('daily', 's3_standard'), '2026-03-02T02:10:00.000Z');
    assert.equal(e('daily', 'b2_cold'), '2026-03-08T02:10:00.000Z');
    assert.equal(e('weekly', 'b2_cold'), '2026-03-29T02:10:00.000Z');
    assert.equal(e('monthly', 'b2_cold'), '2027-03-01T02:10:00.000Z');
    assert.equal(e('weekly', 's3_ia'), '2026-03-29T02:10:00.000Z'); // planned under seed, completed after a change
    assert.equal(copyExpiry({ origin: 'daily', storageTier: 'b2_cold', layout: 'cost-optimized', completedAt: at }, null, OPTS), null);
  });
});

describe('the newest-backup floor keeps the last copy of the newest backup point', () => {
  const copy = (id: string, group: string, tier: 's3_standard' | 'b2_cold', started: string, expires: string, extra: Partial<PruneCandidate> = {}): PruneCandidate => ({
    id,
    tenantId: 't',
    status: 'completed',
    startedAt: new Date(started),
    expiresAt: new Date(expires),
    legalHold: false,
    tenantRemoved: false,
    dumpGroup: group,
    storageTier: tier,
    ...extra,
  });
  const now = new Date('2026-03-20T00:00:00Z');
  const deletes = (cs: PruneCandidate[]) => pruneDecisions(cs, now).filter((d) => d.action === 'delete').map((d) => d.backup_id).sort();

  it('an expired hot copy goes while its point keeps an unexpired B2 copy', () => {
    const cs = [copy('a-s3', 'A', 's3_standard', '2026-03-19T02:00:00Z', '2026-03-19T12:00:00Z'), copy('a-b2', 'A', 'b2_cold', '2026-03-19T02:00:00Z', '2026-03-26T02:00:00Z')];
    assert.deepEqual(deletes(cs), ['a-s3']);
  });

  it('every copy of the newest point expired: the longest-lived stays, the rest go', () => {
    const cs = [
      copy('a-s3', 'A', 's3_standard', '2026-03-10T02:00:00Z', '2026-03-11T02:00:00Z'),
      copy('a-b2', 'A', 'b2_cold', '2026-03-10T02:00:00Z', '2026-03-17T02:00:00Z'),
      copy('old-b2', 'O', 'b2_cold', '2026-03-01T02:00:00Z', '2026-03-08T02:00:00Z'),
    ];
    assert.deepEqual(deletes(cs), ['a-s3', 'old-b2']);
    const kept = pruneDecisions(cs, now).find((d) => d.backup_id === 'a-b2')!;
    assert.match(kept.reason, /floor/);
    // Equal expiries: the copy best to read (S3 Standard) stays.
    const tie = [copy('x-s3', 'X', 's3_standard', '2026-03-10T02:00:00Z', '2026-03-11T02:00:00Z'), copy('x-b2', 'X', 'b2_cold', '2026-03-10T02:00:00Z', '2026-03-11T02:00:00Z')];
    assert.deepEqual(deletes(tie), ['x-b2']);
  });

  it('a held copy is the point’s survivor: no other copy is held back; a removed tenant has no floor', () => {
    const cs = [
      copy('a-s3', 'A', 's3_standard', '2026-03-10T02:00:00Z', '2026-03-11T02:00:00Z', { legalHold: true }),
      copy('a-b2', 'A', 'b2_cold', '2026-03-10T02:00:00Z', '2026-03-17T02:00:00Z'),
    ];
    assert.deepEqual(deletes(cs), ['a-b2']);
    assert.deepEqual(deletes(cs.map((c) => ({ ...c, legalHold: false, tenantRemoved: true }))), ['a-b2', 'a-s3']);
  });
});
