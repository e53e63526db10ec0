// Live progress for the dashboard (polled by components/live-jobs.tsx): pending and running jobs.
import { z } from 'zod';
import { apiRoute } from '@/lib/api/handler';
import { isoUtc } from '@/lib/iso';
import { tenantIdSchema } from '@/lib/domain';
import { activeJobs } from '@/lib/db/queries/backups';

const query = z.object({ tenant: tenantIdSchema.optional() });

export const GET = apiRoute({ role: 'viewer', query }, async ({ query, db }) => {
  const jobs = await activeJobs(db, query.tenant);
  return {
    body: {
      jobs: jobs.map((j) => ({
        kind: j.kind,
        id: j.id,
        tenant_id: j.tenantId,
        status: j.status,
        detail: j.detail,
        progress_bytes: j.progressBytes,
        total_bytes: j.totalBytes,
        started_at: isoUtc(j.startedAt),
        created_at: isoUtc(j.createdAt),
      })),
    },
  };
});
