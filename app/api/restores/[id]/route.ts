import { apiRoute } from '@/lib/api/handler';
import { notFound } from '@/lib/api/errors';
import { restoreJson } from '@/lib/api/json';
import { idParams } from '@/lib/api/schemas';
import { restoreById } from '@/lib/db/queries/restores';

export const GET = apiRoute({ role: 'viewer', params: idParams }, async ({ params, db }) => {
  const restore = await restoreById(db, params.id);
  if (!restore) throw notFound(`restore ${params.id} does not exist`);
  return { body: { restore: restoreJson(restore) } };
});
