// `strata cost [--month YYYY-MM]` and `strata cost simulate --tenants N --size-gb G [--growth PCT] --tier PLAN
// --months M [--preset seed|cost-optimized] [--compare] [--restores-per-month N] [--drills]
// [--incremental ORIGINS|none] [--daily-change-percent P]`
import { getDb } from '../../lib/db/client.ts';
import { layoutSchema, planSchema } from '../../lib/domain.ts';
import { billingMonthOf } from '../../lib/cost/model.ts';
import { parseMonth, pricesFromConfig } from '../../lib/cost/billing.ts';
import { runRate } from '../../lib/views/run-rate.ts';
import { simulateCompare, simulateFleet } from '../../lib/cost/simulate.ts';
import { keepText, type CopySpec } from '../../lib/retention/layouts.ts';
import { processEnv } from '../../lib/env.ts';
import { config, flags, originList, output, required, usage, valid } from '../cli-kit.ts';

const usd = (n: number) => `$${n.toFixed(2)}`;
const gb = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

function number(text: string | undefined, flag: string, opts: { integer?: boolean; min?: number } = {}): number {
  const n = Number(required(text, flag));
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < (opts.min ?? -Infinity)) {
    throw usage(`--${flag} must be ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}`);
  }
  return n;
}

export async function costCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'simulate') return simulate(argv.slice(1));
  const f = flags(argv, { month: { type: 'string' } });
  const cfg = config(['database']);
  let month;
  try {
    month = f.month ? parseMonth(f.month) : billingMonthOf(new Date());
  } catch (err) {
    throw usage(`--month: ${(err as Error).message}`);
  }
  const report = await runRate(getDb(cfg.DATABASE_URL), month, pricesFromConfig(cfg.STRATA_PRICES_JSON));
  output(!!f.json).result(report, () =>
    [
      `Storage cost for ${report.month} (prices as of ${report.prices.as_of}; ${report.prices.source})`,
      ...Object.entries(report.tiers).map(([t, c]) => `  ${t.padEnd(12)} ${gb(c.stored_bytes).padStart(14)} in ${String(c.objects).padStart(5)} objects  ${usd(c.dollars).padStart(10)}${c.early_deletion_dollars > 0 ? ` (incl. ${usd(c.early_deletion_dollars)} early deletion)` : ''}`),
      `  hybrid ${usd(report.hybrid_dollars)} vs all S3 Standard ${usd(report.all_standard_dollars)}: saves ${usd(report.savings_dollars)} (${report.savings_percent.toFixed(1)}%)`,
    ].join('\n'),
  );
}

function simulate(argv: string[]): void {
  const f = flags(argv, {
    tenants: { type: 'string' },
    'size-gb': { type: 'string' },
    growth: { type: 'string' },
    tier: { type: 'string' },
    months: { type: 'string' },
    preset: { type: 'string' },
    compare: { type: 'boolean' },
    'restores-per-month': { type: 'string' },
    drills: { type: 'boolean' },
    incremental: { type: 'string' },
    'daily-change-percent': { type: 'string' },
  });
  const change = f['daily-change-percent'] === undefined ? undefined : number(f['daily-change-percent'], 'daily-change-percent', { min: 0 });
  if (change !== undefined && change > 100) throw usage('--daily-change-percent must be ≤ 100');
  // Without --incremental each preset is priced with its own backup types (cost-optimized: incremental dailies).
  const incrementalOrigins = f.incremental !== undefined ? originList(f.incremental, 'incremental') : undefined;
  const env = processEnv();
  const input = {
    tenants: number(f.tenants, 'tenants', { integer: true, min: 1 }),
    sizeGb: number(f['size-gb'], 'size-gb', { min: 0.001 }),
    growthPctPerMonth: f.growth === undefined ? 0 : number(f.growth, 'growth', { min: -99 }),
    plan: valid(planSchema, required(f.tier, 'tier'), 'tier'),
    months: number(f.months, 'months', { integer: true, min: 1 }),
    layout: f.preset === undefined ? ('seed' as const) : valid(layoutSchema, f.preset, 'preset'),
    restoresPerMonth: f['restores-per-month'] === undefined ? 0 : number(f['restores-per-month'], 'restores-per-month', { integer: true, min: 0 }),
    // The weekly drill samples STRATA_DRILL_SAMPLE tenants (default 3), as the worker does.
    drillSample: f.drills ? drillSample(env.STRATA_DRILL_SAMPLE) : 0,
    timeZone: env.STRATA_TIMEZONE || 'UTC',
    prices: pricesFromConfig(env.STRATA_PRICES_JSON),
    incrementalOrigins,
    dailyChangePercent: change ?? 1,
  };
  const report = f.compare ? simulateCompare(input) : simulateFleet(input);
  const s = report.steady_state;
  const copies = (Object.entries(report.copies) as [string, CopySpec[]][])
    .filter(([, c]) => c.length > 0)
    .map(([origin, c]) => `${origin} → ${c.map((x) => `${x.storage_tier} ${keepText(x.keep)}`).join(' + ')}`)
    .join('; ');
  const pct = (n: number) => `${n.toFixed(1)}%`;
  output(!!f.json).result(report, () =>
    [
      `${report.tenants} ${report.plan} tenants, policy ${report.policy.dailyRetentionDays}d/${report.policy.weeklyRetentionWeeks}w/${report.policy.monthlyRetentionMonths}m, preset ${report.layout} (${copies || 'no copies'}), prices as of ${report.prices_as_of}`,
      report.incremental_origins.length > 0
        ? `Incremental: ${report.incremental_origins.join(', ')} (${report.daily_change_percent}% of the data changes a day); the all-S3-Standard baseline keeps full dumps`
        : 'Full backups only',
      `Last month (${s.month}${s.reached ? '' : ', steady state not yet reached'}): ` +
        Object.entries(s.stored_gb).map(([t, g]) => `${t} ${g.toFixed(1)} GB`).join(', '),
      `Steady state (mean of the last ${report.summary.months_averaged} months):`,
      ...report.summary.presets.map(
        (p) =>
          `  ${p.preset.padEnd(15)} ${usd(p.steady_state_monthly_dollars).padStart(10)}/month vs all S3 Standard ${usd(p.all_standard_monthly_dollars)}: saves ${pct(p.steady_state_savings_percent)}` +
          ` (${p.incremental_origins.length > 0 ? `incremental ${p.incremental_origins.join(', ')}` : 'full backups'})` +
          (p.restore_and_drill_dollars_per_month > 0 ? `, incl. ${usd(p.restore_and_drill_dollars_per_month)}/month restores and drills` : ''),
      ),
      ...report.assumptions.map((a) => `  assumes: ${a}`),
    ].join('\n'),
  );
}

function drillSample(text: string | undefined): number {
  if (text === undefined || text === '') return 3;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw usage('STRATA_DRILL_SAMPLE must be a whole number ≥ 0');
  return n;
}
