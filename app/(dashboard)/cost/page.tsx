import type { Metadata } from 'next';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { costHistory, layoutComparison, priceTable, tierAgainstStandard } from '@/lib/views/cost';
import { storageByTier } from '@/lib/db/queries/backups';
import { removedTenants } from '@/lib/views/tenants';
import { tenantProtection } from '@/lib/tenants/protection';
import { STORAGE_TIERS } from '@/lib/domain';
import { Card, EmptyState, PageHeader, PriceSource, Stat, Table, TenantCell, Td, Th } from '@/components/ui';
import { formatBytes, formatDollars, formatDollarsPrecise, formatMonth, formatPercent, formatSavings, STORAGE_TIER_LABELS } from '@/components/format';
import { MonthChart } from '@/components/month-chart';

export const metadata: Metadata = { title: 'Storage & cost' };
export const dynamic = 'force-dynamic';

const TIER_FILL: Record<string, string> = { s3_standard: 'fill-sky-500', s3_ia: 'fill-indigo-400', b2_cold: 'fill-teal-500' };
const UNITS = [
  { name: 'KiB', bytes: 2 ** 10 },
  { name: 'MiB', bytes: 2 ** 20 },
  { name: 'GiB', bytes: 2 ** 30 },
  { name: 'TiB', bytes: 2 ** 40 },
];

const pct = formatPercent;

export default async function CostPage() {
  const db = appDb();
  const config = appConfig();
  const now = new Date();
  const prices = priceTable(config);
  const [history, usage, tenants, removed, layouts] = await Promise.all([
    costHistory(db, config, 12, now),
    storageByTier(db),
    tenantProtection(db, config, { now }),
    removedTenants(db),
    layoutComparison(db, config),
  ]);
  const rate = history[history.length - 1]!;
  const byTier = new Map(usage.map((u) => [u.storageTier, u]));
  const names = new Map([...removed.map((t) => [t.id, t.name ?? t.id] as const), ...tenants.map((t) => [t.id, t.name] as const)]);
  const storedNow = usage.reduce((a, u) => a + u.bytes, 0);

  // Stored bytes charted in the unit that fits the largest month.
  const monthTotals = history.map((h) => STORAGE_TIERS.reduce((a, t) => a + h.tiers[t].stored_bytes, 0));
  const peak = Math.max(0, ...monthTotals);
  const unit = UNITS.findLast((u) => peak >= u.bytes) ?? UNITS[0]!;
  const months = history.map((h) => h.month);

  return (
    <>
      <PageHeader
        title="Storage & cost"
        subtitle={`${formatMonth(rate.month)} (UTC) as a run-rate: what is stored now is counted to the month’s end, early-deletion charges included`}
      />
      <div className="mb-3 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="This month" value={<span title={formatDollarsPrecise(rate.hybrid_dollars)}>{formatDollars(rate.hybrid_dollars)}</span>} hint="tiered as Strata stores it" />
        <Stat
          label="All in S3 Standard"
          value={<span title={formatDollarsPrecise(rate.all_standard_dollars)}>{formatDollars(rate.all_standard_dollars)}</span>}
          hint="same backups, same retention"
        />
        <Stat
          label={rate.savings_dollars < 0 ? 'Tiering costs more' : 'Savings'}
          value={<span className={rate.savings_dollars < 0 ? 'text-amber-700' : ''}>{pct(rate.savings_percent)}</span>}
          hint={formatSavings(rate.savings_dollars, rate.savings_percent)}
        />
        <Stat label="Stored now" value={formatBytes(storedNow)} hint={`${usage.reduce((a, u) => a + u.backups, 0)} backups`} />
      </div>
      <PriceSource prices={rate.prices} className="mb-6" />

      {layouts.length ? (
        <section className="mb-6" aria-labelledby="layouts-heading">
          <h2 id="layouts-heading" className="mb-2 text-sm font-semibold text-slate-800">
            Copy layouts side by side
          </h2>
          <p className="mb-2 text-xs text-slate-500">
            A month at steady state (mean of months 13–24 of strata cost simulate --compare) for each plan’s tenants at the size of their newest backup, against the same backup points all in S3 Standard as full dumps.
            Each preset with its own backup types: cost-optimized backs dailies up incrementally (priced at 1% of the data changing a day), seed takes full dumps.
          </p>
          <Table label="Copy layouts side by side">
            <thead>
              <tr>
                <Th>Plan</Th>
                <Th className="text-right">Tenants</Th>
                {layouts[0]!.presets.map((p) => (
                  <Th key={p.preset} className="text-right">
                    {p.preset}
                  </Th>
                ))}
                <Th className="text-right">All in S3 Standard</Th>
              </tr>
            </thead>
            <tbody>
              {layouts.map((l) => (
                <tr key={l.plan} data-testid={`layouts-${l.plan}`}>
                  <Td className="capitalize">{l.plan}</Td>
                  <Td className="text-right">
                    {l.tenants} × {formatBytes(l.sizeGb * 2 ** 30)}
                    {l.measured ? '' : ' (assumed)'}
                  </Td>
                  {[...l.presets].sort((a, b) => layouts[0]!.presets.findIndex((p) => p.preset === a.preset) - layouts[0]!.presets.findIndex((p) => p.preset === b.preset)).map((p) => (
                    <Td key={p.preset} className="text-right">
                      {formatDollars(p.steady_state_monthly_dollars)} · saves {pct(p.steady_state_savings_percent)}
                      {p.preset === l.layout ? ' (in use)' : ''}
                    </Td>
                  ))}
                  <Td className="text-right">{formatDollars(l.presets[0]!.all_standard_monthly_dollars)}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </section>
      ) : null}

      <section className="mb-6" aria-labelledby="tiers-heading">
        <h2 id="tiers-heading" className="mb-2 text-sm font-semibold text-slate-800">
          By storage tier
        </h2>
        <Table label="Cost by storage tier">
          <thead>
            <tr>
              <Th>Storage tier</Th>
              <Th className="text-right">Stored</Th>
              <Th className="hidden text-right sm:table-cell">Objects</Th>
              <Th className="hidden text-right md:table-cell">List price</Th>
              <Th className="text-right">This month</Th>
              <Th className="hidden text-right lg:table-cell">Of which storage</Th>
              <Th className="hidden text-right sm:table-cell">Storage in S3 Standard ≈</Th>
              <Th className="text-right">Savings ≈</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {STORAGE_TIERS.map((tier) => {
              const u = byTier.get(tier);
              const t = rate.tiers[tier];
              const c = tierAgainstStandard(rate, tier, prices);
              const gb = prices.bytes_per_gb[tier] === 2 ** 30 ? 'GiB' : 'GB';
              return (
                <tr key={tier} data-testid={`cost-tier-${tier}`}>
                  <Td>
                    <div className="font-medium text-slate-900">{STORAGE_TIER_LABELS[tier]}</div>
                    <div className="text-xs text-slate-500">
                      {t.gb_months.toLocaleString('en-US', { maximumSignificantDigits: 3 })} {gb}-months
                      {prices.min_storage_days[tier] ? ` · ${prices.min_storage_days[tier]}-day minimum` : ''}
                    </div>
                  </Td>
                  <Td className="text-right tabular-nums whitespace-nowrap">{formatBytes(u?.bytes ?? 0)}</Td>
                  <Td className="hidden text-right tabular-nums sm:table-cell">
                    {u?.objects ?? 0}
                    <div className="text-xs text-slate-500">{u?.backups ?? 0} backups</div>
                  </Td>
                  <Td className="hidden text-right tabular-nums whitespace-nowrap md:table-cell">
                    ${prices.storage_per_gb_month[tier]}/{gb}-month
                  </Td>
                  <Td className="text-right tabular-nums whitespace-nowrap">
                    <span title={formatDollarsPrecise(t.dollars)}>{formatDollars(t.dollars)}</span>
                    {t.early_deletion_dollars > 0 ? (
                      <div className="text-xs text-amber-700" title={formatDollarsPrecise(t.early_deletion_dollars)}>
                        incl. {formatDollars(t.early_deletion_dollars)} early deletion
                      </div>
                    ) : null}
                  </Td>
                  <Td className="hidden text-right tabular-nums whitespace-nowrap lg:table-cell">
                    <span title={formatDollarsPrecise(c.storage)}>{formatDollars(c.storage)}</span>
                  </Td>
                  <Td className="hidden text-right tabular-nums whitespace-nowrap sm:table-cell">
                    <span title={formatDollarsPrecise(c.standard)}>{formatDollars(c.standard)}</span>
                  </Td>
                  <Td className="text-right tabular-nums whitespace-nowrap">
                    {tier === 's3_standard' ? (
                      <span className="text-slate-400">—</span>
                    ) : (
                      <>
                        <span title={formatDollarsPrecise(c.savingsDollars)}>{formatDollars(c.savingsDollars)}</span>
                        <div className={`text-xs ${c.savingsDollars < 0 ? 'text-amber-700' : 'text-slate-500'}`}>{pct(c.savingsPercent)}</div>
                      </>
                    )}
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </Table>
        <p className="mt-2 text-xs text-slate-500">
          ≈ Per tier, storage charges only (“of which storage”: early deletion included, request fees left out) against the same GB-months
          at S3 Standard’s rate, with Standard-IA’s 128 KB minimum object size as billed. The totals above and the tenants below compare every object exactly, request fees included.
        </p>
      </section>

      <div className="mb-6 grid gap-6 xl:grid-cols-2">
        <Card title="Stored at each month’s end">
          <MonthChart
            label={`Stored backups per storage tier at the end of each of the last 12 months, in ${unit.name}`}
            months={months}
            stacked
            series={STORAGE_TIERS.map((tier) => ({ label: STORAGE_TIER_LABELS[tier]!, fill: TIER_FILL[tier]!, values: history.map((h) => h.tiers[tier].stored_bytes / unit.bytes) }))}
            format={(n) => `${n.toLocaleString('en-US', { maximumSignificantDigits: 3 })} ${unit.name}`}
            testId="chart-stored"
          />
        </Card>
        <Card title="Monthly cost">
          <MonthChart
            label="Each month's storage bill, tiered against all in S3 Standard, for the last 12 months"
            months={months}
            stacked={false}
            series={[
              { label: 'Tiered (Strata)', fill: 'fill-sky-600', values: history.map((h) => h.hybrid_dollars) },
              { label: 'All in S3 Standard', fill: 'fill-slate-300', values: history.map((h) => h.all_standard_dollars) },
            ]}
            format={formatDollarsPrecise}
            testId="chart-cost"
          />
        </Card>
      </div>

      <section aria-labelledby="tenants-heading">
        <h2 id="tenants-heading" className="mb-2 text-sm font-semibold text-slate-800">
          By tenant <span className="font-normal text-slate-500">(this month, removed tenants included while their backups are kept)</span>
        </h2>
        {rate.tenants.length === 0 ? (
          <EmptyState title="Nothing stored this month">Costs appear once backups complete.</EmptyState>
        ) : (
          <Table label="Cost by tenant">
            <thead>
              <tr>
                <Th>Tenant</Th>
                <Th className="text-right">Stored</Th>
                <Th className="text-right">This month</Th>
                <Th className="hidden text-right sm:table-cell">All in S3 Standard</Th>
                <Th className="text-right">Savings</Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {[...rate.tenants]
                .sort((a, b) => b.all_standard_dollars - a.all_standard_dollars || a.tenant_id.localeCompare(b.tenant_id))
                .map((t) => (
                  <tr key={t.tenant_id} data-testid={`cost-tenant-${t.tenant_id}`}>
                    <Td>
                      <TenantCell id={t.tenant_id} name={names.get(t.tenant_id) ?? t.tenant_id} />
                    </Td>
                    <Td className="text-right tabular-nums whitespace-nowrap">{formatBytes(t.stored_bytes)}</Td>
                    <Td className="text-right tabular-nums whitespace-nowrap">
                      <span title={formatDollarsPrecise(t.hybrid_dollars)}>{formatDollars(t.hybrid_dollars)}</span>
                    </Td>
                    <Td className="hidden text-right tabular-nums whitespace-nowrap sm:table-cell">
                      <span title={formatDollarsPrecise(t.all_standard_dollars)}>{formatDollars(t.all_standard_dollars)}</span>
                    </Td>
                    <Td className="text-right tabular-nums whitespace-nowrap">
                      <span title={formatDollarsPrecise(t.savings_dollars)}>{formatDollars(t.savings_dollars)}</span>
                      <div className={`text-xs ${t.savings_dollars < 0 ? 'text-amber-700' : 'text-slate-500'}`}>{pct(t.savings_percent)}</div>
                    </Td>
                  </tr>
                ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}
