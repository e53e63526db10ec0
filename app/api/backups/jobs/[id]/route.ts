import { apiRoute } from '@/lib/api/handler';
import { notFound } from '@/lib/api/errors';
import { backupJson } from '@/lib/api/json';
import { idParams } from '@/lib/api/schemas';
import { backupById } from '@/lib/db/queries/backups';

export const GET = apiRoute({ role: 'viewer', params: idParams }, async ({ params, db }) => {
  const job = await backupById(db, params.id);
  if (!job) throw notFound(`backup ${params.id} does not exist`);
  return {
    body: {
      job: {
        ...backupJson(job),
        progress_bytes: job.progressBytes,
        // Tenant files: objects and bytes done/total while they are stored, and what this copy added.
        ...(job.includeFiles ? { files_progress: job.filesProgress ?? null, files_added_bytes: job.filesAddedBytes } : {}),
      },
    },
  };
});
