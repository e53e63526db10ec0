import { apiRoute } from '@/lib/api/handler';
import { notFound } from '@/lib/api/errors';
import { scheduleJson } from '@/lib/api/json';
import { tenantParams } from '@/lib/api/schemas';
import { tenantSchedules } from '@/lib/views/schedules';
import { platformTenant } from '@/lib/views/tenants';

export const GET = apiRoute({ role: 'viewer', params: tenantParams }, async ({ params, db }) => {
  if (!(await platformTenant(db, params.tenantId))) throw notFound(`tenant ${params.tenantId} does not exist`);
  const rows = await tenantSchedules(db, params.tenantId);
  return { body: { schedules: rows.filter((s) => s.isActive).map(scheduleJson) } };
});
