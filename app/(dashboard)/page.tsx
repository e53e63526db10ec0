import type { Metadata } from 'next';
import Link from 'next/link';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { compareUrgency } from '@/lib/views/tenants';
import { tenantProtection, tierLabel } from '@/lib/tenants/protection';
import { storageByTier } from '@/lib/db/queries/backups';
import { costThisMonth } from '@/lib/views/cost';
import { workers } from '@/lib/db/queries/workers';
import { STORAGE_TIERS } from '@/lib/domain';
import { Badge, Card, EmptyState, PageHeader, PriceSource, Stat, StatusBadge, Table, TenantCell, Td, Th } from '@/components/ui';
import { formatAge, formatBytes, formatDateTime, formatDollars, formatSavings, STORAGE_TIER_LABELS } from '@/components/format';
import { LiveJobs } from '@/components/live-jobs';

export const metadata: Metadata = { title: 'Overview' };
export const dynamic = 'force-dynamic';

export default async function OverviewPage() {
  const db = appDb();
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const now = new Date();
  const [tenants, storage, cost, workerRows] = await Promise.all([tenantProtection(db, config, { now }), storageByTier(db), costThisMonth(db, config, now), workers(db, now)]);
  const sorted = [...tenants].sort(compareUrgency);
  const overdue = tenants.filter((t) => t.status === 'overdue').length;
  const failing = tenants.filter((t) => t.failing).length;
  const alive = workerRows.filter((w) => w.alive);
  const usage = new Map(storage.map((s) => [s.storageTier, s]));

  return (
    <>
      <PageHeader title="Overview" subtitle={`Times in ${tz}`} />
      <div className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Tenants" value={tenants.length} hint={`${tenants.filter((t) => t.status === 'ok').length} protected`} />
        <Stat
          label="Need attention"
          value={<span className={overdue + failing ? 'text-red-600' : ''}>{overdue + failing}</span>}
          hint={`${overdue} overdue · ${failing} last backup failed`}
        />
        <Stat
          label="This month’s storage cost"
          value={
            <Link href="/cost" className="hover:underline">
              {formatDollars(cost.hybrid_dollars)}
            </Link>
          }
          hint={
            <>
              {formatSavings(cost.savings_dollars, cost.savings_percent)} vs all S3 Standard ·{' '}
              <span title={cost.prices.source}>list prices as of {cost.prices.as_of}</span>
            </>
          }
        />
        <Stat
          label="Workers alive"
          value={<span className={alive.length ? '' : 'text-red-600'}>{alive.length}</span>}
          hint={alive.length ? alive.map((w) => w.host).join(', ') : 'no worker has reported in the last 90 s'}
        />
      </div>

      <div className="grid grid-cols-1 gap-6 xl:grid-cols-3">
        <div className="xl:col-span-2">
          <h2 className="mb-2 text-sm font-semibold text-slate-800">Protection by tenant</h2>
          {sorted.length === 0 ? (
            <EmptyState title="No tenants yet">Tenants appear here once they exist in the platform’s tenants table.</EmptyState>
          ) : (
            <Table label="Tenant protection">
              <thead>
                <tr>
                  <Th>Tenant</Th>
                  <Th>Plan</Th>
                  <Th>Status</Th>
                  <Th>Newest backup</Th>
                  <Th className="hidden md:table-cell">Overdue after</Th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {sorted.map((t) => (
                  <tr key={t.id} data-testid={`tenant-row-${t.id}`}>
                    <Td>
                      <TenantCell id={t.id} name={t.name} />
                    </Td>
                    <Td>{t.plan_known ? (t.tier ?? '—') : tierLabel(t)}</Td>
                    <Td>
                      <div className="flex flex-wrap gap-1">
                        <StatusBadge status={t.status} />
                        {t.failing ? <StatusBadge status="failing" title={t.last_error ?? undefined} /> : null}
                      </div>
                    </Td>
                    <Td>
                      {t.last_backup_at ? (
                        <>
                          <div>{formatAge(t.last_backup_at, now)}</div>
                          <div className="text-xs text-slate-500">{formatDateTime(t.last_backup_at, tz)}</div>
                        </>
                      ) : (
                        <span className="text-slate-500">none yet</span>
                      )}
                    </Td>
                    <Td className="hidden md:table-cell">{t.overdue_after ? formatDateTime(t.overdue_after, tz) : '—'}</Td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </div>
        <div className="space-y-6">
          <Card title="Running now">
            <LiveJobs />
          </Card>
          <Card title="Storage by tier">
            <dl className="space-y-3 text-sm">
              {STORAGE_TIERS.map((tier) => {
                const u = usage.get(tier);
                const c = cost.tiers[tier];
                return (
                  <div key={tier} className="flex items-start justify-between gap-2">
                    <dt>
                      <div className="font-medium text-slate-800">{STORAGE_TIER_LABELS[tier]}</div>
                      <div className="text-xs text-slate-500">
                        {u?.backups ?? 0} backups · {u?.objects ?? 0} objects
                      </div>
                    </dt>
                    <dd className="text-right tabular-nums">
                      <div>{formatBytes(u?.bytes ?? 0)}</div>
                      <div className="text-xs text-slate-500">{formatDollars(c.dollars)} this month</div>
                    </dd>
                  </div>
                );
              })}
            </dl>
            <div className="mt-3 space-y-1 border-t border-slate-100 pt-2 text-xs text-slate-500">
              <p>
                All in S3 Standard would cost {formatDollars(cost.all_standard_dollars)} this month.{' '}
                <Link href="/cost" className="font-medium text-sky-700 hover:underline">
                  Storage &amp; cost
                </Link>
              </p>
              <PriceSource prices={cost.prices} />
            </div>
          </Card>
          <Card title="Workers">
            {workerRows.length === 0 ? (
              <p className="text-sm text-slate-500">No worker has ever started. Run <code>strata worker</code>.</p>
            ) : (
              <ul className="space-y-2 text-sm">
                {workerRows.slice(0, 8).map((w) => (
                  <li key={w.id} className="flex items-center justify-between gap-2">
                    <span className="truncate" title={w.id}>
                      {w.host} <span className="text-xs text-slate-500">v{w.version}</span>
                    </span>
                    <span className="flex items-center gap-2 text-xs text-slate-500">
                      {w.alive ? `${w.runningJobs} running` : formatAge(w.lastSeenAt, now)}
                      <Badge tone={w.alive ? 'green' : 'gray'}>{w.alive ? 'alive' : w.stoppedAt ? 'stopped' : 'silent'}</Badge>
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
