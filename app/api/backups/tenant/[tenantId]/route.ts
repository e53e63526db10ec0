import { apiRoute } from '@/lib/api/handler';
import { badRequest, notFound } from '@/lib/api/errors';
import { backupJson } from '@/lib/api/json';
import { listQuery, tenantParams } from '@/lib/api/schemas';
import { backupsAfter, decodeCursor } from '@/lib/db/queries/backups';
import { platformTenant } from '@/lib/views/tenants';

export const GET = apiRoute({ role: 'viewer', params: tenantParams, query: listQuery }, async ({ params, query, db }) => {
  const cursor = query.cursor ? decodeCursor(query.cursor) : null;
  if (query.cursor && !cursor) throw badRequest('cursor is not one this API returned', 'cursor');
  const page = await backupsAfter(db, params.tenantId, query.limit, cursor);
  // A removed tenant's backups stay listable; an id that never had any is unknown.
  if (page.rows.length === 0 && !cursor && !(await platformTenant(db, params.tenantId))) {
    throw notFound(`tenant ${params.tenantId} does not exist and has no backups`);
  }
  return { body: { backups: page.rows.map(backupJson), next_cursor: page.nextCursor } };
});
