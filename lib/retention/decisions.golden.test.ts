// Golden cases for prune, written by hand from docs/design.md "Retention". Each expected count is
// worked out in the comment above it; the backups are built the way the schedules would create
// them (UTC, tenant offset 0, every run taking 10 minutes) with expires_at from expiryOf.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Origin, Plan } from '../domain.ts';
import { pruneDecisions, purgeDecisions, PurgeRefusedError, type Decision, type PruneCandidate } from './decisions.ts';
import { expiryOf } from './expiry.ts';
import { SEEDED_POLICIES, type RetentionWindows } from './policies.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const OPTS = { manualRetentionDays: 30 };

interface Made extends PruneCandidate {
  origin: Origin;
}

function backup(
  tenantId: string,
  origin: Origin,
  startedIso: string,
  policy: RetentionWindows | null,
  extra: Partial<PruneCandidate> = {},
): Made {
  const startedAt = new Date(startedIso);
  const completedAt = new Date(startedAt.getTime() + 10 * MIN);
  return {
    id: `${tenantId}/${origin}/${startedIso}`,
    tenantId,
    origin,
    status: 'completed',
    startedAt,
    expiresAt: expiryOf({ origin, completedAt }, policy, OPTS),
    legalHold: false,
    tenantRemoved: false,
    ...extra,
  };
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * The runs of `plan`'s schedules from 2026-01-01 up to `until` (only runs started before it):
 * daily 02:00Z, weekly Sunday 03:00Z, monthly the 1st 04:00Z — the base times in UTC, offset 0.
 */
function yearOfRuns(tenantId: string, plan: Plan, until: string, extra: Partial<PruneCandidate> = {}): Made[] {
  const p = SEEDED_POLICIES[plan];
  const out: Made[] = [];
  const end = new Date(until).getTime();
  for (let day = Date.parse('2026-01-01T00:00:00Z'); day < end; day += DAY) {
    const d = new Date(day);
    const runs: [Origin, boolean, string][] = [
      ['daily', p.dailyRetentionDays > 0, '02:00'],
      ['weekly', p.weeklyRetentionWeeks > 0 && d.getUTCDay() === 0, '03:00'],
      ['monthly', p.monthlyRetentionMonths > 0 && d.getUTCDate() === 1, '04:00'],
    ];
    for (const [origin, runs_, hhmm] of runs) {
      const started = `${isoDay(day)}T${hhmm}:00Z`;
      // A run counts once it has completed (10 minutes after it started) by `until`.
      if (runs_ && Date.parse(started) + 10 * MIN <= end) out.push(backup(tenantId, origin, started, p, extra));
    }
  }
  return out;
}

/** Kept/deleted counts per origin. */
function tally(backups: Made[], decisions: Decision[]) {
  const byId = new Map(backups.map((b) => [b.id, b]));
  const t: Record<string, { keep: number; delete: number }> = {};
  for (const d of decisions) {
    const origin = byId.get(d.backup_id)!.origin;
    t[origin] ??= { keep: 0, delete: 0 };
    t[origin][d.action]++;
  }
  return t;
}

const reasonOf = (decisions: Decision[], id: string) => decisions.find((d) => d.backup_id === id)?.reason;

describe('premium (7 days / 4 weeks / 12 months): a year of runs', () => {
  it('at 2027-01-01T12:00Z keeps 7 dailies, 4 weeklies, 12 monthlies', () => {
    const now = '2027-01-01T12:00:00Z';
    const backups = yearOfRuns('t1', 'premium', now);
    const decisions = pruneDecisions(backups, new Date(now));
    // Dailies: 2026-01-01 … 2027-01-01 = 365 + 1 = 366 runs. A daily started on day D expires
    // D+7 at 02:10; kept iff D+7 02:10 > Jan 1 12:00, i.e. D+7 ≥ Jan 2, i.e. D ≥ Dec 26:
    // Dec 26, 27, 28, 29, 30, 31, Jan 1 = 7 kept; Dec 25's expired at Jan 1 02:10 → 359 deleted.
    // Weeklies: Sundays of 2026 are Jan 4 + 7k ≤ Dec 27 (day 4 + 7·51 = day 361) = 52 runs; the next,
    // Jan 3 2027, is after now. Kept iff S+28 ≥ Jan 2, i.e. S ≥ Dec 5: Dec 6, 13, 20, 27 = 4;
    // Nov 29's expired Dec 27 03:10 → 48 deleted.
    // Monthlies: the 1st of Jan 2026 … Jan 2027 (Jan 1 04:00 < 12:00) = 13 runs; +12 months:
    // Jan 2026's expired 2027-01-01T04:10 ≤ now → deleted; Feb 2026 … Jan 2027 = 12 kept.
    assert.deepEqual(tally(backups, decisions), {
      daily: { keep: 7, delete: 359 },
      weekly: { keep: 4, delete: 48 },
      monthly: { keep: 12, delete: 1 },
    });
    assert.equal(reasonOf(decisions, 't1/daily/2026-12-25T02:00:00Z'), 'expired 2027-01-01T02:10:00Z');
    assert.equal(reasonOf(decisions, 't1/daily/2026-12-26T02:00:00Z'), 'retained until 2027-01-02T02:10:00Z');
    // The newest is the 2027-01-01 monthly (04:00), unexpired: the floor is not needed.
    assert.ok(!decisions.some((d) => d.reason.includes('floor')));
  });

  it('at the exact instant a daily expires (expires_at = now counts as expired): still 7, not 8', () => {
    // now = 2027-01-01T02:10Z: Dec 25's daily expires exactly now → expired (≤) → deleted; Jan 1's
    // daily completes exactly now → counted. Kept: Dec 26 … Jan 1 = 7. Were expiry "< now",
    // Dec 25's would survive and 8 would be kept.
    const now = '2027-01-01T02:10:00Z';
    const backups = yearOfRuns('t1', 'premium', now);
    const decisions = pruneDecisions(backups, new Date(now));
    assert.deepEqual(tally(backups, decisions).daily, { keep: 7, delete: 359 });
    assert.equal(reasonOf(decisions, 't1/daily/2026-12-25T02:00:00Z'), 'expired 2027-01-01T02:10:00Z');

    // One ms earlier Jan 1's daily is not complete yet and Dec 25's has not expired:
    // Dec 25 … Dec 31 = 7 kept, of 365 runs → 358 deleted. 7 either side of the instant — because
    // the new daily completes at the wall time the old one expires (a run slower than the one
    // 7 days before would leave only 6 for a moment: expiry counts from completed_at).
    const before = '2027-01-01T02:09:59.999Z';
    const earlier = yearOfRuns('t1', 'premium', before);
    assert.deepEqual(tally(earlier, pruneDecisions(earlier, new Date(before))).daily, { keep: 7, delete: 358 });
  });

  it('deleting the decided backups and pruning again deletes nothing more', () => {
    const now = new Date('2027-01-01T12:00:00Z');
    const backups = yearOfRuns('t1', 'premium', now.toISOString());
    const deleted = new Set(pruneDecisions(backups, now).filter((d) => d.action === 'delete').map((d) => d.backup_id));
    const after = backups.map((b) => (deleted.has(b.id) ? { ...b, status: 'deleted' as const } : b));
    const again = pruneDecisions(after, now);
    assert.equal(again.length, 7 + 4 + 12);
    assert.ok(again.every((d) => d.action === 'keep'));
  });
});

describe('advanced (0 / 0 / 12): monthlies only, plus manual backups', () => {
  it('at 2027-01-01T12:00Z keeps 12 monthlies and the manual backup younger than 30 days', () => {
    const now = '2027-01-01T12:00:00Z';
    const backups = [
      ...yearOfRuns('t2', 'advanced', now),
      // Manual, 30 days: Nov 10 10:10 + 30 d = Dec 10 10:10 ≤ now → deleted; Dec 10 → Jan 9 → kept.
      backup('t2', 'manual', '2026-11-10T10:00:00Z', SEEDED_POLICIES.advanced),
      backup('t2', 'manual', '2026-12-10T10:00:00Z', SEEDED_POLICIES.advanced),
    ];
    const decisions = pruneDecisions(backups, new Date(now));
    // No dailies or weeklies exist (windows 0 → no schedules). Monthlies: 13 runs, Jan 2026's
    // expired at 2027-01-01T04:10 → 12 kept, 1 deleted.
    assert.deepEqual(tally(backups, decisions), {
      monthly: { keep: 12, delete: 1 },
      manual: { keep: 1, delete: 1 },
    });
  });
});

describe('basic (0 / 0 / 0): no schedules, manual backups only', () => {
  // A manual backup on the 15th of every month of 2026 at 10:00Z (completed 10:10).
  const manuals = () =>
    Array.from({ length: 12 }, (_, m) =>
      backup('t3', 'manual', `2026-${String(m + 1).padStart(2, '0')}-15T10:00:00Z`, SEEDED_POLICIES.basic),
    );

  it('at 2027-01-01T12:00Z keeps only the December one', () => {
    // Dec 15 + 30 d = Jan 14 > now → kept; Nov 15 + 30 d = Dec 15 ≤ now → deleted, and so are all
    // earlier ones: 1 kept, 11 deleted.
    const backups = manuals();
    assert.deepEqual(tally(backups, pruneDecisions(backups, new Date('2027-01-01T12:00:00Z'))), {
      manual: { keep: 1, delete: 11 },
    });
  });

  it('floor: when every backup has expired, the newest is kept', () => {
    // At 2027-03-01 all 12 have expired (the last, Dec 15's, on 2027-01-14T10:10Z). The tenant is
    // active, so its newest completed backup — Dec 15's — stays.
    const backups = manuals();
    const decisions = pruneDecisions(backups, new Date('2027-03-01T00:00:00Z'));
    assert.deepEqual(tally(backups, decisions), { manual: { keep: 1, delete: 11 } });
    assert.deepEqual(decisions[0], {
      backup_id: 't3/manual/2026-12-15T10:00:00Z',
      action: 'keep',
      reason: 'newest backup of tenant (floor; expired 2027-01-14T10:10:00Z)',
    });
  });
});

describe('floor, holds and removed tenants', () => {
  it('premium tenant whose runs stopped on 2026-06-30: a year later only the newest is kept', () => {
    // Runs up to 2026-06-30T23:59Z. At 2027-12-01 every one has expired (the latest expiry is
    // the Jun 1 monthly's, 2027-06-01T04:10). Newest by started_at: the Jun 30 daily (02:00);
    // Jun 28 is the last weekly (03:00) and Jun 1 the last monthly. 1 kept.
    const backups = yearOfRuns('t4', 'premium', '2026-06-30T23:59:00Z');
    const decisions = pruneDecisions(backups, new Date('2027-12-01T00:00:00Z'));
    const kept = decisions.filter((d) => d.action === 'keep');
    assert.deepEqual(kept, [
      {
        backup_id: 't4/daily/2026-06-30T02:00:00Z',
        action: 'keep',
        reason: 'newest backup of tenant (floor; expired 2026-07-07T02:10:00Z)',
      },
    ]);
    // 181 dailies (Jan 1 … Jun 30) + 26 weeklies (Jan 4 … Jun 28) + 6 monthlies − 1 kept.
    assert.equal(decisions.length - kept.length, 181 + 26 + 6 - 1);
  });

  it('a tie on started_at (one dump stored to two tiers) is broken by id, highest first', () => {
    const p = SEEDED_POLICIES.premium;
    const a = { ...backup('t5', 'daily', '2026-01-04T02:00:00Z', p), id: '0f0e0d0c-0000-4000-8000-000000000001' };
    const b = { ...backup('t5', 'weekly', '2026-01-04T02:00:00Z', p), id: 'a0000000-0000-4000-8000-000000000002' };
    const decisions = pruneDecisions([a, b], new Date('2027-01-01T00:00:00Z'));
    // Both expired; b's id sorts higher, so b is the floor and comes first in the output.
    assert.deepEqual(
      decisions.map((d) => [d.backup_id, d.action]),
      [
        [b.id, 'keep'],
        [a.id, 'delete'],
      ],
    );
  });

  it('a legal hold keeps an expired backup; the floor is still the newest', () => {
    const now = '2027-01-01T12:00:00Z';
    const backups = yearOfRuns('t1', 'premium', now).map((b) =>
      b.id === 't1/daily/2026-03-01T02:00:00Z' ? { ...b, legalHold: true } : b,
    );
    const decisions = pruneDecisions(backups, new Date(now));
    // As in the first premium case plus the held daily: 8 dailies kept, 358 deleted.
    assert.deepEqual(tally(backups, decisions).daily, { keep: 8, delete: 358 });
    assert.equal(reasonOf(decisions, 't1/daily/2026-03-01T02:00:00Z'), 'legal hold (expired 2026-03-08T02:10:00Z)');
  });

  it('a removed tenant: expiry as usual, but no floor — everything goes once expired', () => {
    const runs = (now: string) => yearOfRuns('t6', 'premium', now, { tenantRemoved: true });
    // While backups are unexpired nothing changes: 7 / 4 / 12 as for an active tenant.
    const y = runs('2027-01-01T12:00:00Z');
    assert.deepEqual(tally(y, pruneDecisions(y, new Date('2027-01-01T12:00:00Z'))), {
      daily: { keep: 7, delete: 359 },
      weekly: { keep: 4, delete: 48 },
      monthly: { keep: 12, delete: 1 },
    });
    // Runs stopped at removal (2026-06-30); by 2027-12-01 all expired → all 213 deleted, none kept.
    const stopped = runs('2026-06-30T23:59:00Z');
    const decisions = pruneDecisions(stopped, new Date('2027-12-01T00:00:00Z'));
    assert.equal(decisions.length, 213);
    assert.ok(decisions.every((d) => d.action === 'delete'));
    assert.equal(
      reasonOf(decisions, 't6/daily/2026-06-30T02:00:00Z'),
      'expired 2026-07-07T02:10:00Z (tenant removed: no newest-backup floor)',
    );
  });

  it('a removed tenant\'s held backup is still kept', () => {
    const held = backup('t7', 'manual', '2026-01-01T00:00:00Z', null, { tenantRemoved: true, legalHold: true });
    assert.equal(pruneDecisions([held], new Date('2030-01-01T00:00:00Z'))[0]!.action, 'keep');
  });
});

describe('plan downgrade', () => {
  it('premium until 2026-06-30, basic after: the premium backups keep their premium expiry', () => {
    // expires_at was computed at completion under the plan recorded on each backup (premium).
    // At 2026-07-03T12:00Z: dailies kept iff D+7 ≥ Jul 4 → Jun 27, 28, 29, 30 = 4; weeklies
    // (Sundays Jun 7, 14, 21, 28) kept iff S+28 ≥ Jul 4 → S ≥ Jun 6 → 4; monthlies Jan 1 … Jun 1
    // expire in 2027 → 6. The manual backup taken under basic on Jul 2 (30 days) → kept.
    const now = new Date('2026-07-03T12:00:00Z');
    const underPremium = yearOfRuns('t8', 'premium', '2026-06-30T23:59:00Z');
    const manual = backup('t8', 'manual', '2026-07-02T10:00:00Z', SEEDED_POLICIES.basic);
    const backups = [...underPremium, manual];
    assert.deepEqual(tally(backups, pruneDecisions(backups, now)), {
      daily: { keep: 4, delete: 177 },
      weekly: { keep: 4, delete: 22 },
      monthly: { keep: 6, delete: 0 },
      manual: { keep: 1, delete: 0 },
    });
    // Had the downgrade recomputed expiry under basic (0/0/0), every scheduled backup would have
    // expired at completion and only the floor (the Jul 2 manual, newest) would survive: the
    // contrast shows why expiry is fixed at completion from the backup's own plan.
    const recomputed = underPremium.map((b) => ({
      ...b,
      expiresAt: expiryOf({ origin: b.origin, completedAt: new Date(b.startedAt!.getTime() + 10 * MIN) }, SEEDED_POLICIES.basic, OPTS),
    }));
    const keptIfRecomputed = pruneDecisions([...recomputed, manual], now).filter((d) => d.action === 'keep');
    assert.deepEqual(keptIfRecomputed.map((d) => d.backup_id), [manual.id]);
  });
});

describe('month-end clamping in prune', () => {
  it('a 1-month monthly completed Jan 31 2028 expires Feb 29 (leap year), not Mar 2', () => {
    // A custom plan 0/0/1 in Australia/Sydney: the 1st 04:00 AEDT is the previous day 17:00Z, so
    // monthlies complete on month ends in UTC. Jan 31 17:10 + 1 month = Feb 29 17:10 (clamped).
    const p = { dailyRetentionDays: 0, weeklyRetentionWeeks: 0, monthlyRetentionMonths: 1 };
    const jan = backup('t9', 'monthly', '2028-01-31T17:00:00Z', p);
    const feb = backup('t9', 'monthly', '2028-02-29T17:00:00Z', p); // → Mar 29 17:10
    const decisions = pruneDecisions([jan, feb], new Date('2028-03-01T00:00:00Z'));
    assert.deepEqual(decisions, [
      { backup_id: feb.id, action: 'keep', reason: 'retained until 2028-03-29T17:10:00Z' },
      { backup_id: jan.id, action: 'delete', reason: 'expired 2028-02-29T17:10:00Z' },
    ]);
  });
});

describe('failed, running and orphaned', () => {
  const p = SEEDED_POLICIES.premium;
  const now = new Date('2026-06-10T12:00:00Z');

  it('failed backups with objects are deleted whatever their age; others are not prune\'s business', () => {
    const ok = backup('ta', 'daily', '2026-06-10T02:00:00Z', p);
    const failed = { ...backup('ta', 'daily', '2026-06-09T02:00:00Z', p), status: 'failed' as const, expiresAt: null };
    const failedEmpty = { ...failed, id: 'ta/failed-empty', hasObjects: false };
    const running = { ...backup('ta', 'manual', '2026-06-10T11:00:00Z', null), status: 'running' as const };
    const gone = { ...backup('ta', 'daily', '2026-05-01T02:00:00Z', p), status: 'deleted' as const };
    const decisions = pruneDecisions([running, gone, failedEmpty, failed, ok], now);
    assert.deepEqual(decisions, [
      { backup_id: ok.id, action: 'keep', reason: 'retained until 2026-06-17T02:10:00Z' },
      // Same started_at: the higher id ('ta/failed-empty' > 'ta/daily/…') first.
      { backup_id: failedEmpty.id, action: 'keep', reason: 'failed backup; no objects stored' },
      { backup_id: failed.id, action: 'delete', reason: 'failed backup' },
    ]);
  });

  it('manifest-less objects go after 24 h; never those of a live row or with a manifest', () => {
    const live = { ...backup('tb', 'daily', '2026-06-08T02:00:00Z', p), status: 'running' as const };
    const orphan = (backupId: string, lastModified: string, more: { hasManifest?: boolean; legalHold?: boolean } = {}) => ({
      backupId,
      tenantId: 'tb',
      lastModified: new Date(lastModified),
      hasManifest: false,
      legalHold: false,
      ...more,
    });
    const decisions = pruneDecisions([live], now, {
      orphanObjects: [
        orphan('o4', '2026-06-01T00:00:00Z', { hasManifest: true }), // rebuildable: no decision
        orphan('o3', '2026-06-01T00:00:00Z', { legalHold: true }),
        orphan('o2', '2026-06-09T12:00:00Z'), // exactly 24 h old → deleted
        orphan('o1', '2026-06-09T12:00:00.001Z'), // 1 ms younger → kept
        orphan(live.id, '2026-06-01T00:00:00Z'), // the running backup's own upload
      ],
    });
    assert.deepEqual(decisions, [
      { backup_id: 'o1', action: 'keep', reason: 'objects without a manifest, younger than 24 h (upload may be in progress)' },
      { backup_id: 'o2', action: 'delete', reason: 'objects without a manifest, older than 24 h' },
      { backup_id: 'o3', action: 'keep', reason: 'objects without a manifest: legal hold marker present' },
    ]);
  });
});

describe('purgeDecisions (tenant remove --purge-backups)', () => {
  const p = SEEDED_POLICIES.premium;
  it('deletes every live backup now, expired or not, pending included', () => {
    const a = backup('tp', 'daily', '2026-06-10T02:00:00Z', p);
    const b = { ...backup('tp', 'manual', '2026-06-10T09:00:00Z', null), status: 'pending' as const, startedAt: null };
    const c = { ...backup('tp', 'daily', '2026-06-01T02:00:00Z', p), status: 'deleted' as const };
    assert.deepEqual(purgeDecisions([c, a, b]), [
      { backup_id: a.id, action: 'delete', reason: 'tenant purge (--purge-backups)' },
      { backup_id: b.id, action: 'delete', reason: 'tenant purge (--purge-backups)' },
    ]);
  });

  it('refuses, naming every held backup, when any is on legal hold', () => {
    const held1 = backup('tp', 'daily', '2026-06-10T02:00:00Z', p, { legalHold: true });
    const held2 = backup('tp', 'monthly', '2026-06-01T04:00:00Z', p, { legalHold: true });
    const free = backup('tp', 'daily', '2026-06-09T02:00:00Z', p);
    assert.throws(
      () => purgeDecisions([free, held2, held1]),
      (e: unknown) =>
        e instanceof PurgeRefusedError &&
        e.code === 'conflict' &&
        e.heldBackupIds.join() === [held1.id, held2.id].join() &&
        e.message.includes(held1.id) &&
        e.message.includes(held2.id),
    );
  });

  it('refuses while a backup is running', () => {
    const running = { ...backup('tp', 'manual', '2026-06-10T09:00:00Z', null), status: 'running' as const };
    assert.throws(() => purgeDecisions([running]), (e: unknown) => e instanceof PurgeRefusedError && e.runningBackupIds[0] === running.id);
  });
});
