import type { Metadata } from 'next';
import Link from 'next/link';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { removedTenants, searchTenants, sortTenants, type TenantSort } from '@/lib/views/tenants';
import { tenantProtection, tierLabel } from '@/lib/tenants/protection';
import { buttonClass, EmptyState, inputClass, PageHeader, StatusBadge, Table, TenantCell, Td, Th } from '@/components/ui';
import { formatAge, formatBytes, formatDateTime } from '@/components/format';

export const metadata: Metadata = { title: 'Tenants' };
export const dynamic = 'force-dynamic';

const SORTS: { key: TenantSort; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'plan', label: 'Plan' },
  { key: 'status', label: 'Status' },
  { key: 'newest', label: 'Newest backup' },
  { key: 'size', label: 'Stored' },
];

type SP = Promise<Record<string, string | string[] | undefined>>;

export default async function TenantsPage({ searchParams }: { searchParams: SP }) {
  const sp = await searchParams;
  const q = typeof sp.q === 'string' ? sp.q.slice(0, 100) : '';
  const sort = (SORTS.find((s) => s.key === sp.sort)?.key ?? 'status') as TenantSort;
  const dir = sp.dir === 'desc' ? 'desc' : 'asc';
  const config = appConfig();
  const tz = config.STRATA_TIMEZONE;
  const db = appDb();
  const [all, removed] = await Promise.all([tenantProtection(db, config), removedTenants(db)]);
  const rows = sortTenants(searchTenants(all, q), sort, dir);
  const href = (key: TenantSort) => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    p.set('sort', key);
    p.set('dir', key === sort && dir === 'asc' ? 'desc' : 'asc');
    return `/tenants?${p}`;
  };
  const now = new Date();
  return (
    <>
      <PageHeader title="Tenants" subtitle={`${all.length} tenants · times in ${tz}`} />
      <form method="get" className="mb-4 flex max-w-md gap-2" role="search">
        <label htmlFor="tenant-search" className="sr-only">
          Search tenants
        </label>
        <input id="tenant-search" name="q" defaultValue={q} placeholder="Search by name, id, schema or plan" className={inputClass} />
        <input type="hidden" name="sort" value={sort} />
        <input type="hidden" name="dir" value={dir} />
        <button type="submit" className={buttonClass.secondary}>
          Search
        </button>
      </form>
      {rows.length === 0 ? (
        <EmptyState title={q ? `No tenant matches “${q}”` : 'No tenants yet'} />
      ) : (
        <Table label="Tenants">
          <thead>
            <tr>
              {SORTS.map((s) => (
                <Th key={s.key}>
                  <Link href={href(s.key)} className="hover:text-slate-900" aria-sort={undefined}>
                    {s.label}
                    {s.key === sort ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </Link>
                </Th>
              ))}
              <Th className="hidden md:table-cell">Schema</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((t) => (
              <tr key={t.id}>
                <Td>
                  <TenantCell id={t.id} name={t.name} />
                </Td>
                <Td>{t.plan_known ? (t.tier ?? '—') : tierLabel(t)}</Td>
                <Td>
                  <div className="flex flex-wrap gap-1">
                    <StatusBadge status={t.status} />
                    {t.failing ? <StatusBadge status="failing" /> : null}
                  </div>
                </Td>
                <Td>
                  {t.last_backup_at ? <span title={formatDateTime(t.last_backup_at, tz)}>{formatAge(t.last_backup_at, now)}</span> : 'none'}
                </Td>
                <Td className="tabular-nums">
                  {formatBytes(t.stored_bytes)} <span className="text-xs text-slate-500">({t.backup_count})</span>
                </Td>
                <Td className="hidden font-mono text-xs md:table-cell">{t.schema_name}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {removed.length > 0 ? (
        <section className="mt-8" aria-labelledby="removed-heading">
          <h2 id="removed-heading" className="mb-1 text-sm font-semibold text-slate-800">
            Removed tenants
          </h2>
          <p className="mb-2 text-sm text-slate-500">Gone from the platform; their backups stay listed until they expire by policy.</p>
          <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm shadow-sm">
            {removed.map((t) => (
              <li key={t.id} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
                <span className="min-w-0">
                  <TenantCell id={t.id} name={t.name ?? t.id} />
                </span>
                <span className="text-xs text-slate-500">removed {formatDateTime(t.removedAt, tz)}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
