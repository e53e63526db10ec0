// A bar chart of one figure per month, inline SVG (no chart library): series stacked (parts of a
// whole, like bytes per storage tier) or side by side (alternatives, like hybrid vs all-Standard).
// Every bar has a tooltip, and the figures are in a table underneath for anyone who cannot see it.
import { formatMonth } from './format';

export interface ChartSeries {
  label: string;
  /** Tailwind fill class for the bars and the legend swatch. */
  fill: string;
  values: number[];
}

const W = 480;
const H = 200;
const PAD = { left: 66, right: 8, top: 10, bottom: 32 };

/** A round step giving about `n` gridlines up to `max`. */
function niceStep(max: number, n = 4): number {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

export function MonthChart({
  label,
  months,
  series,
  stacked,
  format,
  testId,
}: {
  label: string;
  /** YYYY-MM, oldest first. */
  months: string[];
  series: ChartSeries[];
  stacked: boolean;
  format: (n: number) => string;
  testId?: string;
}) {
  const totals = months.map((_, i) => (stacked ? series.reduce((a, s) => a + (s.values[i] ?? 0), 0) : Math.max(0, ...series.map((s) => s.values[i] ?? 0))));
  const peak = Math.max(0, ...totals);
  const step = peak > 0 ? niceStep(peak) : 1;
  const top = peak > 0 ? Math.ceil(peak / step) * step : 4;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, months.length);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const barW = stacked ? slot * 0.6 : (slot * 0.76) / Math.max(1, series.length);

  return (
    <figure data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} className="h-auto w-full">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="stroke-slate-200" strokeWidth={1} />
            <text x={PAD.left - 6} y={y(t)} dy="0.32em" textAnchor="end" className="fill-slate-500" fontSize={12}>
              {peak > 0 || t === 0 ? format(t) : ''}
            </text>
          </g>
        ))}
        {months.map((m, i) => {
          const x0 = PAD.left + i * slot;
          let base = 0;
          return (
            <g key={m}>
              {series.map((s, k) => {
                const v = s.values[i] ?? 0;
                const x = stacked ? x0 + (slot - barW) / 2 : x0 + (slot - barW * series.length) / 2 + k * barW;
                const from = stacked ? base : 0;
                if (stacked) base += v;
                const h = y(from) - y(from + v);
                return (
                  <rect key={s.label} x={x} y={y(from + v)} width={Math.max(1, barW - (stacked ? 0 : 1))} height={Math.max(0, h)} className={s.fill}>
                    <title>{`${formatMonth(m)} · ${s.label}: ${format(v)}`}</title>
                  </rect>
                );
              })}
              <text x={x0 + slot / 2} y={H - PAD.bottom + 15} textAnchor="middle" className="fill-slate-600" fontSize={12}>
                {formatMonth(m, { year: false })}
              </text>
              {i === 0 || m.endsWith('-01') ? (
                <text x={x0 + slot / 2} y={H - PAD.bottom + 28} textAnchor="middle" className="fill-slate-400" fontSize={10}>
                  {m.slice(0, 4)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} className="stroke-slate-400" strokeWidth={1} />
      </svg>
      <figcaption className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600">
        {series.map((s) => (
          <span key={s.label} className="inline-flex items-center gap-1.5">
            <svg width="10" height="10" aria-hidden="true">
              <rect width="10" height="10" rx="2" className={s.fill} />
            </svg>
            {s.label}
          </span>
        ))}
        {peak === 0 ? <span className="text-slate-500">No stored backups in these months yet.</span> : null}
      </figcaption>
      <details className="mt-2 text-xs text-slate-600">
        <summary className="cursor-pointer text-slate-500 hover:text-slate-700">Figures</summary>
        <div className="mt-2 overflow-x-auto">
          <table className="min-w-full text-left tabular-nums">
            <thead>
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Month
                </th>
                {series.map((s) => (
                  <th key={s.label} scope="col" className="py-1 pr-3 font-medium">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {months.map((m, i) => (
                <tr key={m} className="border-t border-slate-100">
                  <th scope="row" className="py-1 pr-3 font-normal whitespace-nowrap">
                    {formatMonth(m)}
                  </th>
                  {series.map((s) => (
                    <td key={s.label} className="py-1 pr-3 whitespace-nowrap">
                      {format(s.values[i] ?? 0)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
