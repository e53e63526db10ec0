// CVE-2025-8714: a dump could carry psql meta-commands that pg_restore -f - / psql then run on the
// restoring host. Fixed by `\restrict` in 17.6, 16.10, 15.14, 14.19 and 13.22 (and every release of 18
// on); Strata pipes `pg_restore -f -` into psql, so both must be fixed ones. Pure: unit-tested.

/** The first release of each supported major with the fix. */
export const RESTRICT_FIXED: Readonly<Record<number, number>> = { 17: 6, 16: 10, 15: 14, 14: 19, 13: 22 };

/** `psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → { major: 15, minor: 18 }; null when unreadable. */
export function parseClientVersion(text: string): { major: number; minor: number } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text) ?? /^\s*(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Whether this client version has the `\restrict` fix; null when the text is not a version. */
export function hasRestrictFix(versionText: string): boolean | null {
  const v = parseClientVersion(versionText);
  if (!v) return null;
  if (v.major >= 18) return true;
  const fixed = RESTRICT_FIXED[v.major];
  return fixed !== undefined && v.minor >= fixed;
}

/** The release to upgrade to, for a message. */
export function restrictFixedRelease(major: number): string {
  const fixed = RESTRICT_FIXED[major];
  return fixed === undefined ? '17.6 or later (a supported major)' : `${major}.${fixed}`;
}
