// Wall-clock time in an IANA zone, done with Intl only (no tz database of our own).
//
// A "wall time" here is a naive timestamp: the local calendar fields packed into a number with
// Date.UTC, so plain arithmetic on it is wall-clock arithmetic (02:00 + 90 min = 03:30 local,
// whatever the zone does that night). Converting a wall time back to an instant is where DST
// bites; wallToInstant() is the one place that decides it.

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface WallFields {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone, which is what callers should see.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local calendar fields of `instant` in `timeZone`. */
export function wallFields(instant: Date, timeZone: string): WallFields {
  const out: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  const year = out.year;
  const month = out.month;
  const day = out.day;
  const hour = out.hour;
  const minute = out.minute;
  const second = out.second;
  if ([year, month, day, hour, minute, second].some((n) => n === undefined || Number.isNaN(n))) {
    throw new Error(`cannot read local time in ${timeZone}`);
  }
  return { year, month, day, hour, minute, second };
}

/** The local time of `instant` as a naive wall timestamp (ms). */
export function wallOf(instant: Date, timeZone: string): number {
  const f = wallFields(instant, timeZone);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) + instant.getUTCMilliseconds();
}

/** UTC offset (wall − instant, ms) in force at `instantMs`. */
function offsetAt(instantMs: number, timeZone: string): number {
  return wallOf(new Date(instantMs), timeZone) - instantMs;
}

/**
 * The instant at which the local clock in `timeZone` shows `wall` — by docs/design.md "Schedules":
 * - a repeated wall time (fall back) maps to its FIRST occurrence, so a slot never fires twice;
 * - a wall time that does not exist (spring-forward gap) maps to the next valid instant, i.e. the
 *   moment the gap ends (02:30 in a 02:00→03:00 gap runs at 03:00 local).
 *
 * Assumes at most one offset change within a day either side of `wall`, true of every zone in
 * use today.
 */
export function wallToInstant(wall: number, timeZone: string): Date {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const candidates = [...new Set([before, after])]
    .map((off) => wall - off)
    .filter((t) => wallOf(new Date(t), timeZone) === wall)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return new Date(candidates[0]!);

  // In a gap: the offset jumps from `before` to `after` (after > before) somewhere in
  // [wall − after, wall − before]. The first instant already on the new offset is the gap's end.
  let lo = wall - after; // still on the old offset
  let hi = wall - before; // already on the new offset
  if (offsetAt(hi, timeZone) !== after || offsetAt(lo, timeZone) !== before) {
    throw new Error(`cannot place local time ${new Date(wall).toISOString()} in ${timeZone}`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, timeZone) === after) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

export const WALL = { MINUTE_MS, DAY_MS } as const;
