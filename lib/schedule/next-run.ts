// When a schedule fires (docs/design.md "Schedules"). Slots come from the calendar, never from
// "now + period": each period has one anchor date (every day / every Sunday / every 1st), the slot
// is the anchor's base time plus the tenant's offset added on LOCAL wall-clock time, and only then
// converted to an instant (wallToInstant decides DST gaps and repeats).
import type { ScheduleType } from '../domain.ts';
import { WALL, wallFields, wallToInstant } from './wall-clock.ts';

const { MINUTE_MS, DAY_MS } = WALL;

/** Local base time of each schedule, as minutes after local midnight of the anchor date. */
export const BASE_MINUTES: Record<ScheduleType, number> = {
  daily: 2 * 60, // 02:00
  weekly: 3 * 60, // Sunday 03:00
  monthly: 4 * 60, // the 1st, 04:00
};

/** Anchor dates are naive midnights (Date.UTC of the local date). */
function anchorOnOrBefore(type: ScheduleType, dateMidnight: number): number {
  const d = new Date(dateMidnight);
  switch (type) {
    case 'daily':
      return dateMidnight;
    case 'weekly':
      return dateMidnight - d.getUTCDay() * DAY_MS; // getUTCDay: 0 = Sunday
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

function nextAnchor(type: ScheduleType, anchor: number): number {
  const d = new Date(anchor);
  switch (type) {
    case 'daily':
      return anchor + DAY_MS;
    case 'weekly':
      return anchor + 7 * DAY_MS;
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
}

function previousAnchor(type: ScheduleType, anchor: number): number {
  const d = new Date(anchor);
  switch (type) {
    case 'daily':
      return anchor - DAY_MS;
    case 'weekly':
      return anchor - 7 * DAY_MS;
    case 'monthly':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  }
}

function slotOf(type: ScheduleType, anchor: number, offsetMinutes: number, timeZone: string): Date {
  return wallToInstant(anchor + (BASE_MINUTES[type] + offsetMinutes) * MINUTE_MS, timeZone);
}

function checkOffset(offsetMinutes: number): void {
  if (!Number.isInteger(offsetMinutes) || offsetMinutes < 0) {
    throw new RangeError(`tenant offset must be a non-negative integer of minutes, got ${offsetMinutes}`);
  }
}

/**
 * An anchor whose slot is at or before `instant`: the offset can push a slot past later anchors'
 * dates, so start far enough back (offset in whole days + 2 days for zone offsets).
 */
function anchorBefore(type: ScheduleType, offsetMinutes: number, instant: Date, timeZone: string): number {
  const f = wallFields(instant, timeZone);
  const localMidnight = Date.UTC(f.year, f.month - 1, f.day);
  const backDays = Math.ceil((BASE_MINUTES[type] + offsetMinutes) / 1440) + 2;
  return previousAnchor(type, anchorOnOrBefore(type, localMidnight - backDays * DAY_MS));
}

/**
 * The first slot strictly after `after`. Slots strictly increase from anchor to anchor (wall
 * times a day or more apart never map to the same instant), so walking anchors forward is exact.
 * A repeated local hour yields one slot (the first occurrence), so the next call, given that
 * slot, moves on to the next period rather than firing at the second occurrence.
 */
export function nextRunAt(type: ScheduleType, offsetMinutes: number, after: Date, timeZone: string): Date {
  checkOffset(offsetMinutes);
  let anchor = anchorBefore(type, offsetMinutes, after, timeZone);
  for (;;) {
    const slot = slotOf(type, anchor, offsetMinutes, timeZone);
    if (slot.getTime() > after.getTime()) return slot;
    anchor = nextAnchor(type, anchor);
  }
}

/** The latest slot at or before `atOrBefore` (the slot a schedule "owes" after downtime). */
export function previousSlot(type: ScheduleType, offsetMinutes: number, atOrBefore: Date, timeZone: string): Date {
  checkOffset(offsetMinutes);
  let anchor = anchorBefore(type, offsetMinutes, atOrBefore, timeZone);
  let last = slotOf(type, anchor, offsetMinutes, timeZone);
  if (last.getTime() > atOrBefore.getTime()) {
    throw new Error('internal: starting anchor is after the instant'); // anchorBefore guarantees it
  }
  for (;;) {
    anchor = nextAnchor(type, anchor);
    const slot = slotOf(type, anchor, offsetMinutes, timeZone);
    if (slot.getTime() > atOrBefore.getTime()) return last;
    last = slot;
  }
}

/** Every slot in (from, to] — half-open like nextRunAt: a slot equal to `from` already ran. */
export function slotsBetween(
  type: ScheduleType,
  offsetMinutes: number,
  from: Date,
  to: Date,
  timeZone: string,
): Date[] {
  checkOffset(offsetMinutes);
  const slots: Date[] = [];
  for (let anchor = anchorBefore(type, offsetMinutes, from, timeZone); ; anchor = nextAnchor(type, anchor)) {
    const slot = slotOf(type, anchor, offsetMinutes, timeZone);
    if (slot.getTime() > to.getTime()) return slots;
    if (slot.getTime() > from.getTime()) slots.push(slot);
  }
}

/** A schedule is due once its next_run_at has come (≤ now), matching "expired when ≤ now". */
export function isDue(nextRun: Date, now: Date): boolean {
  return nextRun.getTime() <= now.getTime();
}
