import type { Metadata } from 'next';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { auditPage } from '@/lib/db/queries/audit';
import { buttonClass, EmptyState, inputClass, PageHeader, Pager, Table, Td, Th } from '@/components/ui';
import { formatDateTime } from '@/components/format';

export const metadata: Metadata = { title: 'Audit log' };
export const dynamic = 'force-dynamic';

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const actor = typeof sp.actor === 'string' ? sp.actor.slice(0, 200) : '';
  const action = typeof sp.action === 'string' ? sp.action.slice(0, 100) : '';
  const page = Math.max(1, Math.min(100_000, Number(sp.page) || 1));
  const tz = appConfig().STRATA_TIMEZONE;
  const result = await auditPage(appDb(), { actor, action }, page);
  const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
  const href = (p: number) => `/audit?${new URLSearchParams({ ...(actor ? { actor } : {}), ...(action ? { action } : {}), page: String(p) })}`;
  return (
    <>
      <PageHeader title="Audit log" subtitle={`${result.total} entries · times in ${tz}`} />
      <form method="get" className="mb-4 flex flex-wrap items-end gap-2">
        <div>
          <label htmlFor="audit-actor" className="block text-xs text-slate-500">
            Actor
          </label>
          <input id="audit-actor" name="actor" defaultValue={actor} className={inputClass} placeholder="email or token:name" />
        </div>
        <div>
          <label htmlFor="audit-action" className="block text-xs text-slate-500">
            Action starts with
          </label>
          <input id="audit-action" name="action" defaultValue={action} className={inputClass} placeholder="restore." />
        </div>
        <button type="submit" className={buttonClass.secondary}>
          Filter
        </button>
      </form>
      {result.rows.length === 0 ? (
        <EmptyState title="No audit entries match" />
      ) : (
        <Table label="Audit log">
          <thead>
            <tr>
              <Th>When</Th>
              <Th>Actor</Th>
              <Th>Action</Th>
              <Th>Target</Th>
              <Th className="hidden md:table-cell">Details</Th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {result.rows.map((e) => (
              <tr key={e.id}>
                <Td className="whitespace-nowrap">{formatDateTime(e.at, tz)}</Td>
                <Td className="break-all">{e.actor}</Td>
                <Td className="font-mono text-xs">{e.action}</Td>
                <Td className="break-all">{e.target ?? '—'}</Td>
                <Td className="hidden max-w-md md:table-cell">
                  <code className="block truncate text-xs text-slate-500" title={e.details ? JSON.stringify(e.details) : undefined}>
                    {e.details ? JSON.stringify(e.details) : ''}
                  </code>
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pager label="Audit pages" page={page} pages={pages} href={href} />
    </>
  );
}
