// A time zone in which no schedule slot is near. Daily, weekly and monthly slots fall between 02:00
// and 06:00 local time (lib/schedule/next-run.ts, plus the tenant's offset), so tests that run real
// workers against their own clock must not meet one by chance: a schedule made due by a test would
// otherwise fire again when its real slot arrives mid-test (seen in CI started at 02:00 UTC).
// Fixed-offset zones (no DST) put "now" at about 14:00 local, ≥ 8 hours from any slot.

const QUIET_LOCAL_HOUR = 14;

/** IANA name of the fixed-offset zone where `now` is QUIET_LOCAL_HOUR:xx local time. */
export function quietTimeZone(now: Date = new Date()): string {
  const offset = QUIET_LOCAL_HOUR - now.getUTCHours(); // -9 … +14, all valid Etc/GMT zones
  if (offset === 0) return 'Etc/GMT';
  // POSIX sign convention: Etc/GMT-3 is three hours AHEAD of UTC.
  return offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}
