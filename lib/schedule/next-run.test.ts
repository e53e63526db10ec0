import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cron } from 'croner';
import type { ScheduleType } from '../domain.ts';
import { BASE_MINUTES, isDue, nextRunAt, previousSlot, slotsBetween } from './next-run.ts';
import { wallFields } from './wall-clock.ts';

const at = (iso: string) => new Date(iso);
const next = (type: ScheduleType, offset: number, after: string, tz: string) =>
  nextRunAt(type, offset, at(after), tz).toISOString();
const local = (d: Date, tz: string) => {
  const f = wallFields(d, tz);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${f.year}-${p(f.month)}-${p(f.day)} ${p(f.hour)}:${p(f.minute)}`;
};

describe('nextRunAt: base times and offsets', () => {
  it('UTC: daily 02:00, weekly Sunday 03:00, monthly the 1st 04:00', () => {
    assert.equal(next('daily', 0, '2026-05-05T10:00:00Z', 'UTC'), '2026-05-06T02:00:00.000Z');
    assert.equal(next('weekly', 0, '2026-05-05T10:00:00Z', 'UTC'), '2026-05-10T03:00:00.000Z'); // Tue → Sun
    assert.equal(next('monthly', 0, '2026-05-05T10:00:00Z', 'UTC'), '2026-06-01T04:00:00.000Z');
  });

  it('strictly after: a slot equal to `after` is not returned again', () => {
    assert.equal(next('daily', 0, '2026-05-06T02:00:00Z', 'UTC'), '2026-05-07T02:00:00.000Z');
    assert.equal(next('daily', 0, '2026-05-06T01:59:59.999Z', 'UTC'), '2026-05-06T02:00:00.000Z');
  });

  it('the offset is added on local wall-clock time: 02:00 + 90 min = 03:30 local', () => {
    assert.equal(local(nextRunAt('daily', 90, at('2026-07-01T12:00:00Z'), 'Europe/Berlin'), 'Europe/Berlin'), '2026-07-02 03:30');
    assert.equal(next('daily', 90, '2026-07-01T12:00:00Z', 'Europe/Berlin'), '2026-07-02T01:30:00.000Z'); // CEST = UTC+2
  });

  it('offsets that push past midnight (window up to 1440)', () => {
    // daily 02:00 + 1439 min = 01:59 the next day; the slot of Dec 31 2025 is the first after Jan 1 00:00.
    assert.equal(next('daily', 1439, '2026-01-01T00:00:00Z', 'UTC'), '2026-01-01T01:59:00.000Z');
    assert.equal(next('daily', 1439, '2026-01-01T01:59:00Z', 'UTC'), '2026-01-02T01:59:00.000Z');
    // weekly Sunday 03:00 + 1439 = Monday 02:59
    assert.equal(next('weekly', 1439, '2026-05-05T10:00:00Z', 'UTC'), '2026-05-11T02:59:00.000Z');
    // monthly the 1st 04:00 + 1200 = the 2nd 00:00
    assert.equal(next('monthly', 1200, '2026-05-05T10:00:00Z', 'UTC'), '2026-06-02T00:00:00.000Z');
  });

  it('month ends and year end', () => {
    assert.equal(next('monthly', 0, '2026-01-31T23:00:00Z', 'UTC'), '2026-02-01T04:00:00.000Z');
    assert.equal(next('monthly', 0, '2026-02-01T04:00:00Z', 'UTC'), '2026-03-01T04:00:00.000Z');
    assert.equal(next('monthly', 0, '2026-12-31T12:00:00Z', 'UTC'), '2027-01-01T04:00:00.000Z');
    assert.equal(next('daily', 0, '2026-12-31T02:00:00Z', 'UTC'), '2027-01-01T02:00:00.000Z');
    assert.equal(next('weekly', 0, '2026-12-28T00:00:00Z', 'UTC'), '2027-01-03T03:00:00.000Z');
    // New York's 1st 04:00 EST is 09:00Z; in Sydney the 1st 04:00 AEDT is the previous day 17:00Z.
    assert.equal(next('monthly', 0, '2026-12-31T12:00:00Z', 'America/New_York'), '2027-01-01T09:00:00.000Z');
    // (Dec 31 12:00Z is already 23:00 on Dec 31 in Sydney; its Jan 1 04:00 is 5 hours later.)
    assert.equal(next('monthly', 0, '2026-12-31T12:00:00Z', 'Australia/Sydney'), '2026-12-31T17:00:00.000Z');
    assert.equal(next('monthly', 0, '2026-12-31T17:00:00Z', 'Australia/Sydney'), '2027-01-31T17:00:00.000Z');
  });

  it('refuses a negative offset and an unknown zone', () => {
    assert.throws(() => nextRunAt('daily', -1, at('2026-01-01T00:00:00Z'), 'UTC'), RangeError);
    assert.throws(() => nextRunAt('daily', 0, at('2026-01-01T00:00:00Z'), 'Mars/Olympus'), RangeError);
  });
});

describe('nextRunAt: DST', () => {
  it('Europe/Berlin 2026-03-29 (02:00 → 03:00): times in the gap run at 03:00 local', () => {
    // 02:00, 02:30, 02:59 do not exist that night → 03:00 CEST = 01:00Z; 03:00 itself exists.
    for (const offset of [0, 30, 59, 60]) assert.equal(next('daily', offset, '2026-03-28T12:00:00Z', 'Europe/Berlin'), '2026-03-29T01:00:00.000Z');
    assert.equal(next('daily', 90, '2026-03-28T12:00:00Z', 'Europe/Berlin'), '2026-03-29T01:30:00.000Z'); // 03:30 CEST
    // The day before and after are back at 02:30 local.
    assert.equal(next('daily', 30, '2026-03-27T12:00:00Z', 'Europe/Berlin'), '2026-03-28T01:30:00.000Z'); // CET
    assert.equal(next('daily', 30, '2026-03-29T01:00:00Z', 'Europe/Berlin'), '2026-03-30T00:30:00.000Z'); // CEST
    // The weekly that Sunday at 03:00 exists (CEST) → 01:00Z.
    assert.equal(next('weekly', 0, '2026-03-28T12:00:00Z', 'Europe/Berlin'), '2026-03-29T01:00:00.000Z');
  });

  it('Europe/Berlin 2026-10-25 (03:00 → 02:00): the repeated hour runs once, at the first occurrence', () => {
    assert.equal(next('daily', 30, '2026-10-24T12:00:00Z', 'Europe/Berlin'), '2026-10-25T00:30:00.000Z'); // 02:30 CEST
    // Given that slot, the next is the next day — never 01:30Z (02:30 CET, the second occurrence).
    assert.equal(next('daily', 30, '2026-10-25T00:30:00Z', 'Europe/Berlin'), '2026-10-26T01:30:00.000Z');
    // Asked from between the two occurrences, it still skips the second.
    assert.equal(next('daily', 30, '2026-10-25T01:00:00Z', 'Europe/Berlin'), '2026-10-26T01:30:00.000Z');
    // 03:00 local happens once that night (CET): weekly Sunday 03:00 = 02:00Z.
    assert.equal(next('weekly', 0, '2026-10-24T12:00:00Z', 'Europe/Berlin'), '2026-10-25T02:00:00.000Z');
  });

  it('America/New_York 2026-03-08 and 2026-11-01', () => {
    // Gap 02:00 → 03:00 EDT: daily 02:00 and 02:45 → 03:00 EDT = 07:00Z.
    assert.equal(next('daily', 0, '2026-03-07T12:00:00Z', 'America/New_York'), '2026-03-08T07:00:00.000Z');
    assert.equal(next('daily', 45, '2026-03-07T12:00:00Z', 'America/New_York'), '2026-03-08T07:00:00.000Z');
    assert.equal(next('daily', 0, '2026-03-08T07:00:00Z', 'America/New_York'), '2026-03-09T06:00:00.000Z'); // 02:00 EDT
    // Repeat 01:00–01:59: daily 02:00 + 1380 min = 01:00 the next day; Oct 31's slot lands on
    // Nov 1 01:00, which happens twice → first (EDT) = 05:00Z; the next is Nov 2 01:00 EST = 06:00Z.
    assert.equal(next('daily', 1380, '2026-10-31T12:00:00Z', 'America/New_York'), '2026-11-01T05:00:00.000Z');
    assert.equal(next('daily', 1380, '2026-11-01T05:00:00Z', 'America/New_York'), '2026-11-02T06:00:00.000Z');
    // 02:00 on Nov 1 exists once (EST) = 07:00Z.
    assert.equal(next('daily', 0, '2026-10-31T12:00:00Z', 'America/New_York'), '2026-11-01T07:00:00.000Z');
  });

  it('Australia/Lord_Howe: a 30-minute DST shift (2026-10-04 02:00 → 02:30)', () => {
    // 02:00–02:29 do not exist; 02:10 runs at 02:30 local (+11:00) = 15:30Z on Oct 3.
    assert.equal(next('daily', 10, '2026-10-03T00:00:00Z', 'Australia/Lord_Howe'), '2026-10-03T15:30:00.000Z');
    assert.equal(local(nextRunAt('daily', 40, at('2026-10-03T00:00:00Z'), 'Australia/Lord_Howe'), 'Australia/Lord_Howe'), '2026-10-04 02:40');
  });
});

describe('consecutive runs never drift', () => {
  const chain = (type: ScheduleType, offset: number, from: string, tz: string, n: number) => {
    const out: Date[] = [];
    let d = at(from);
    for (let i = 0; i < n; i++) out.push((d = nextRunAt(type, offset, d, tz)));
    return out;
  };

  it('Berlin daily 02:30 for a year: 02:30 local every day except 03:00 on the spring-forward day', () => {
    const runs = chain('daily', 30, '2026-01-01T00:00:00Z', 'Europe/Berlin', 365);
    const times = runs.map((d) => local(d, 'Europe/Berlin'));
    assert.equal(times[0], '2026-01-01 02:30');
    assert.equal(times[364], '2026-12-31 02:30');
    for (const t of times) assert.ok(t.endsWith(t.startsWith('2026-03-29') ? '03:00' : '02:30'), t);
    // One per local date: 365 distinct dates.
    assert.equal(new Set(times.map((t) => t.slice(0, 10))).size, 365);
  });

  it('New York weekly and monthly: every Sunday 03:17 / every 1st 04:17, local', () => {
    const weekly = chain('weekly', 17, '2026-01-01T00:00:00Z', 'America/New_York', 104).map((d) => local(d, 'America/New_York'));
    weekly.forEach((t, i) => {
      assert.ok(t.endsWith('03:17'), t);
      assert.equal(new Date(`${t.slice(0, 10)}T00:00:00Z`).getUTCDay(), 0, t);
      if (i > 0) assert.equal(Date.parse(t.slice(0, 10)) - Date.parse(weekly[i - 1]!.slice(0, 10)), 7 * 86_400_000);
    });
    const monthly = chain('monthly', 17, '2026-01-01T00:00:00Z', 'America/New_York', 24).map((d) => local(d, 'America/New_York'));
    assert.deepEqual(monthly.slice(0, 3), ['2026-01-01 04:17', '2026-02-01 04:17', '2026-03-01 04:17']);
    assert.equal(monthly[23], '2027-12-01 04:17');
    for (const t of monthly) assert.ok(t.slice(8) === '01 04:17', t);
  });
});

describe('slotsBetween, previousSlot, isDue', () => {
  it('slotsBetween is (from, to] and matches chaining nextRunAt', () => {
    const slots = slotsBetween('daily', 30, at('2026-03-27T01:30:00Z'), at('2026-03-30T00:30:00Z'), 'Europe/Berlin');
    assert.deepEqual(
      slots.map((d) => d.toISOString()),
      ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
    );
    const weeks = slotsBetween('weekly', 0, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'), 'UTC');
    assert.equal(weeks.length, 52);
  });

  it('previousSlot: the latest slot at or before the instant', () => {
    assert.equal(previousSlot('daily', 30, at('2026-03-29T01:00:00Z'), 'Europe/Berlin').toISOString(), '2026-03-29T01:00:00.000Z');
    assert.equal(previousSlot('daily', 30, at('2026-03-29T00:59:59Z'), 'Europe/Berlin').toISOString(), '2026-03-28T01:30:00.000Z');
    assert.equal(previousSlot('monthly', 0, at('2026-03-01T03:59:00Z'), 'UTC').toISOString(), '2026-02-01T04:00:00.000Z');
  });

  it('isDue at next_run_at', () => {
    assert.equal(isDue(at('2026-01-01T02:00:00Z'), at('2026-01-01T02:00:00Z')), true);
    assert.equal(isDue(at('2026-01-01T02:00:00Z'), at('2026-01-01T01:59:59Z')), false);
  });
});

describe('agrees with croner (an independent implementation) on random instants', () => {
  // croner's fixed-time jobs follow the same DST rules (gap → first valid time after it, repeat →
  // first occurrence). Our slot expressed as a cron pattern: the offset may move it to the next day.
  const cronFor = (type: ScheduleType, offset: number) => {
    const total = BASE_MINUTES[type] + offset;
    const dayShift = Math.floor(total / 1440);
    const [h, m] = [Math.floor((total % 1440) / 60), total % 60];
    if (type === 'daily') return `${m} ${h} * * *`;
    if (type === 'weekly') return `${m} ${h} * * ${dayShift % 7}`;
    return `${m} ${h} ${1 + dayShift} * *`;
  };
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Chatham'];

  it('nextRunAt = croner nextRun', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<ScheduleType>('daily', 'weekly', 'monthly'),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2029-01-01T00:00:00Z') }),
        fc.constantFrom(...zones),
        (type, offset, afterMs, tz) => {
          const after = new Date(afterMs);
          const want = new Cron(cronFor(type, offset), { timezone: tz, paused: true }).nextRun(after);
          assert.equal(nextRunAt(type, offset, after, tz).toISOString(), want?.toISOString());
        },
      ),
      { numRuns: 400 },
    );
  });

  it('…including right at DST transitions', () => {
    const transitions = [
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
      ['Australia/Sydney', '2026-10-03T16:00:00Z'],
      ['Australia/Sydney', '2026-04-04T16:00:00Z'],
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...transitions),
        fc.integer({ min: -36 * 60, max: 12 * 60 }),
        fc.integer({ min: 0, max: 1439 }),
        ([tz, iso], minutes, offset) => {
          const after = new Date(Date.parse(iso) + minutes * 60_000);
          const want = new Cron(cronFor('daily', offset), { timezone: tz, paused: true }).nextRun(after);
          assert.equal(nextRunAt('daily', offset, after, tz).toISOString(), want?.toISOString());
        },
      ),
      { numRuns: 600 },
    );
  });
});
