// Live progress for the dashboard (polled by components/live-jobs.tsx): pending and running jobs.
import { z } from 'zod';
import { apiRoute } from '@/lib/api/handler';
import { activeJobsWithFiles } from '@/lib/api/live';
import { isoUtc } from '@/lib/iso';
import { tenantIdSchema } from '@/lib/domain';

const query = z.object({ tenant: tenantIdSchema.optional() });

export const GET = apiRoute({ role: 'viewer', query }, async ({ query, db }) => {
  const jobs = await activeJobsWithFiles(db, query.tenant);
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
        // Tenant files (backups and restores that have a file part): objects and bytes done/total.
        ...(j.files ? { files: j.files } : {}),
      })),
    },
  };
});
