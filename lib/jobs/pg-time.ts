// Drizzle's `db.execute` hands timestamptz values back as PostgreSQL's text form
// (`2026-11-26 02:00:00.123456+00`) rather than Dates; these turn them into Dates (to the millisecond).
export function pgTime(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value !== 'string') throw new TypeError(`not a timestamp: ${JSON.stringify(value)}`);
  const iso = value.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new TypeError(`not a timestamp: ${JSON.stringify(value)}`);
  return d;
}

export function pgTimeOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : pgTime(value);
}
