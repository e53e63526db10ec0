// `strata cost [--month YYYY-MM]` and `strata cost simulate --tenants N --size-gb G [--growth PCT] --tier PLAN --months M`
import { getDb } from '../../lib/db/client.ts';
import { planSchema } from '../../lib/domain.ts';
import { billingMonthOf } from '../../lib/cost/model.ts';
import { parseMonth, pricesFromConfig, runRate } from '../../lib/cost/run-rate.ts';
import { simulateFleet } from '../../lib/cost/simulate.ts';
import { config, flags, output, required, usage, valid } from '../cli-kit.ts';

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
  const f = flags(argv, { tenants: { type: 'string' }, 'size-gb': { type: 'string' }, growth: { type: 'string' }, tier: { type: 'string' }, months: { type: 'string' } });
  const report = simulateFleet({
    tenants: number(f.tenants, 'tenants', { integer: true, min: 1 }),
    sizeGb: number(f['size-gb'], 'size-gb', { min: 0.001 }),
    growthPctPerMonth: f.growth === undefined ? 0 : number(f.growth, 'growth', { min: -99 }),
    plan: valid(planSchema, required(f.tier, 'tier'), 'tier'),
    months: number(f.months, 'months', { integer: true, min: 1 }),
    timeZone: process.env.STRATA_TIMEZONE || 'UTC',
    prices: pricesFromConfig(process.env.STRATA_PRICES_JSON),
  });
  const s = report.steady_state;
  output(!!f.json).result(report, () =>
    [
      `${report.tenants} ${report.plan} tenants, policy ${report.policy.dailyRetentionDays}d/${report.policy.weeklyRetentionWeeks}w/${report.policy.monthlyRetentionMonths}m, prices as of ${report.prices_as_of}`,
      `Steady state (${s.month}${s.reached ? '' : ', not yet reached'}): ` +
        Object.entries(s.stored_gb).map(([t, g]) => `${t} ${g.toFixed(1)} GB`).join(', '),
      `Monthly: hybrid ${usd(s.hybrid_dollars)} vs all S3 Standard ${usd(s.all_standard_dollars)}: saves ${usd(s.savings_dollars)} (${s.savings_percent.toFixed(1)}%)`,
      ...report.assumptions.map((a) => `  assumes: ${a}`),
    ].join('\n'),
  );
}
