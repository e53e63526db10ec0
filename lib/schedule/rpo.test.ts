import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { overdueStatus, type RpoSchedule } from './rpo.ts';

const at = (iso: string) => new Date(iso);
const sched = (scheduleType: RpoSchedule['scheduleType'], firstSlot: string, isPaused = false): RpoSchedule => ({
  scheduleType,
  isPaused,
  firstSlot: at(firstSlot),
});
const premium = [sched('daily', '2026-01-02T02:00:00Z'), sched('weekly', '2026-01-04T03:00:00Z'), sched('monthly', '2026-02-01T04:00:00Z')];

describe('overdueStatus', () => {
  it('daily: overdue once now − newest started_at exceeds 24 h + grace (strictly)', () => {
    const base = { schedules: premium, newestCompletedStartedAt: at('2026-06-10T02:00:00Z'), graceHours: 2 };
    // deadline = Jun 10 02:00 + 24 h + 2 h = Jun 11 04:00
    assert.deepEqual(overdueStatus({ ...base, now: at('2026-06-11T04:00:00Z') }), {
      status: 'ok',
      deadline: at('2026-06-11T04:00:00Z'),
      scheduleType: 'daily',
    });
    assert.equal(overdueStatus({ ...base, now: at('2026-06-11T04:00:00.001Z') }).status, 'overdue');
  });

  it('the most frequent unpaused schedule sets the period', () => {
    const weeklyOnly = [sched('daily', '2026-01-02T02:00:00Z', true), ...premium.slice(1)];
    const r = overdueStatus({ schedules: weeklyOnly, newestCompletedStartedAt: at('2026-06-07T03:00:00Z'), now: at('2026-06-12T00:00:00Z'), graceHours: 2 });
    assert.deepEqual(r, { status: 'ok', deadline: at('2026-06-14T05:00:00Z'), scheduleType: 'weekly' });
    // advanced (monthly only): 31 days + 2 h
    const monthly = overdueStatus({
      schedules: [sched('monthly', '2026-02-01T04:00:00Z')],
      newestCompletedStartedAt: at('2026-05-01T04:00:00Z'),
      now: at('2026-06-01T06:00:00Z'),
      graceHours: 2,
    });
    assert.deepEqual(monthly, { status: 'ok', deadline: at('2026-06-01T06:00:00Z'), scheduleType: 'monthly' });
  });

  it('a new tenant with no backup: ok until its first slot + grace, overdue after', () => {
    const base = { schedules: premium, newestCompletedStartedAt: null, graceHours: 2 };
    assert.equal(overdueStatus({ ...base, now: at('2026-01-02T04:00:00Z') }).status, 'ok');
    assert.deepEqual(overdueStatus({ ...base, now: at('2026-01-02T04:00:01Z') }), {
      status: 'overdue',
      deadline: at('2026-01-02T04:00:00Z'),
      scheduleType: 'daily',
    });
  });

  it('an old manual backup does not make a just-created schedule overdue before its first slot', () => {
    // Upgraded from basic on Jun 15: last (manual) backup Apr 1, first monthly slot Jul 1 04:00.
    const r = overdueStatus({
      schedules: [sched('monthly', '2026-07-01T04:00:00Z')],
      newestCompletedStartedAt: at('2026-04-01T10:00:00Z'),
      now: at('2026-06-20T00:00:00Z'),
      graceHours: 2,
    });
    assert.deepEqual(r, { status: 'ok', deadline: at('2026-07-01T06:00:00Z'), scheduleType: 'monthly' });
  });

  it('all schedules paused → paused; no schedules (basic) → unprotected', () => {
    const old = { newestCompletedStartedAt: at('2025-01-01T00:00:00Z'), now: at('2026-06-01T00:00:00Z'), graceHours: 2 };
    assert.deepEqual(overdueStatus({ ...old, schedules: premium.map((s) => ({ ...s, isPaused: true })) }), {
      status: 'paused',
      deadline: null,
      scheduleType: null,
    });
    assert.deepEqual(overdueStatus({ ...old, schedules: [] }), { status: 'unprotected', deadline: null, scheduleType: null });
  });
});
