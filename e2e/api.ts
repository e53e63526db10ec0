// Small helpers for specs that talk to the HTTP API directly.
import { expect, type APIRequestContext } from '@playwright/test';
import { readState } from './stack.ts';

export const bearer = (role: 'admin' | 'operator' | 'viewer') => ({ authorization: `Bearer ${readState().tokens[role]}` });

/** Queues a backup through the API and waits until the worker has completed it. */
export async function completedBackup(request: APIRequestContext, tenantId: string, storageTier = 's3_standard'): Promise<string> {
  const res = await request.post('/api/backups/create', { headers: bearer('admin'), data: { tenant_id: tenantId, storage_tier: storageTier } });
  expect(res.status()).toBe(202);
  const id = (await res.json()).job.id as string;
  await expect
    .poll(async () => (await (await request.get(`/api/backups/jobs/${id}`, { headers: bearer('viewer') })).json()).job.status, { timeout: 90_000 })
    .toBe('completed');
  return id;
}

export async function restoreStatus(request: APIRequestContext, id: string): Promise<string> {
  return (await (await request.get(`/api/restores/${id}`, { headers: bearer('viewer') })).json()).restore.status;
}
