// Human sizes and times, always with the time zone named (STRATA_TIMEZONE).
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/** With `zone: false` the zone is left out: only where a heading already names it. */
export function formatDateTime(d: Date | string | null | undefined, timeZone: string, opts: { zone?: boolean } = {}): string {
  if (!d) return '—';
  const date = typeof d === 'string' ? new Date(d) : d;
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return opts.zone === false ? text : `${text} ${zoneLabel(date, timeZone)}`;
}

/** The zone's short name at that instant (CET/CEST), or the IANA name when there is none. */
export function zoneLabel(date: Date, timeZone: string): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' })
    .formatToParts(date)
    .find((p) => p.type === 'timeZoneName')?.value;
  return part && !/^GMT[+-]/.test(part) ? part : timeZone;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !(ms >= 0)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "3h ago", "in 2d" */
export function formatAge(d: Date | string | null | undefined, now = new Date()): string {
  if (!d) return 'never';
  const t = (typeof d === 'string' ? new Date(d) : d).getTime();
  const diff = now.getTime() - t;
  const text = formatDuration(Math.abs(diff)).split(' ')[0]!;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

export function formatDollars(n: number): string {
  if (n < 0) return `−${formatDollars(-n)}`;
  // A small catalog's bill is fractions of a cent: keep its digits rather than show "$0.00".
  if (n > 0 && n < 0.01) return formatDollarsPrecise(n);
  return n < 10 ? `$${n.toFixed(2)}` : `$${n.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

/** "saves $3.10 (74%)", or "costs $0.40 more (−12%)" when tiering is dearer (small objects in IA). */
export function formatSavings(dollars: number, percent: number): string {
  if (dollars < 0) return `costs ${formatDollars(-dollars)} more (${formatPercent(percent)})`;
  return `saves ${formatDollars(dollars)} (${formatPercent(percent)})`;
}

/** "74%", "−0.4%": one decimal below 10 so a small difference does not read as none. */
export function formatPercent(n: number): string {
  return `${(Math.abs(n) < 10 ? n.toFixed(1) : Math.round(n).toString()).replace('-', '−')}%`;
}

export const STORAGE_TIER_LABELS: Record<string, string> = {
  s3_standard: 'S3 Standard',
  s3_ia: 'S3 Standard-IA',
  b2_cold: 'Backblaze B2',
};

/** The same, short: one line per copy inside a backup point's history row. */
export const STORAGE_TIER_SHORT: Record<string, string> = {
  s3_standard: 'S3',
  s3_ia: 'S3 IA',
  b2_cold: 'B2',
};

/** Fractions of a cent kept: "$0.0000023" (chart axes, tooltips). */
export function formatDollarsPrecise(n: number): string {
  return `$${n.toLocaleString('en-US', { maximumSignificantDigits: 3 })}`;
}

/** "2026-03" → "Mar 2026" */
export function formatMonth(month: string, opts: { year?: boolean } = {}): string {
  const [y, m] = month.split('-').map(Number);
  const name = new Intl.DateTimeFormat('en-GB', { month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(y!, m! - 1, 1)));
  return opts.year === false ? name : `${name} ${y}`;
}
