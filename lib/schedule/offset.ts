// Spread tenants' start times over the schedule window so 02:00 is not a thundering herd.
import { createHash } from 'node:crypto';

/**
 * A stable per-tenant offset in [0, windowMinutes): the same tenant id always lands on the same
 * minute (restarts, other workers and catalog rebuilds agree), derived from sha256 of the id.
 * A window of 0 (or 1) means "no spread": every tenant starts at the base time.
 */
export function tenantOffsetMinutes(tenantId: string, windowMinutes: number): number {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 0) {
    throw new RangeError(`schedule window must be a non-negative integer of minutes, got ${windowMinutes}`);
  }
  if (windowMinutes <= 1) return 0;
  // 48 bits of the digest: the modulo bias over a window of at most a few thousand minutes is < 1e-10.
  const n = createHash('sha256').update(tenantId, 'utf8').digest().readUIntBE(0, 6);
  return n % windowMinutes;
}
