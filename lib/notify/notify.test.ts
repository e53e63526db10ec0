// Webhooks once per incident: a Slack-compatible {text} on first detection, silence while it lasts,
// closed when resolved; overdue tenants found with the RPO rules.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Config } from '../env.ts';
import { addTinyTenants } from '../jobs/test-support.ts';
import { reconcileSchedules } from '../scheduler/reconcile.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { closeIncident, openIncident } from './incidents.ts';
import { checkOverdue } from './overdue.ts';

describe('notify', () => {
  let stack: TestStack;
  let db: Db;
  let server: Server;
  let config: Config;
  const posts: { text: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body) as { text: string });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stack = await startTestStack();
    db = stack.db;
    config = { ...stack.config, STRATA_WEBHOOK_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
  });
  after(async () => {
    await stack?.stop();
    server?.close();
  });
  beforeEach(() => {
    posts.length = 0;
  });

  it('sends once per incident, again after it was resolved', async () => {
    const ctx = { db, config };
    assert.equal(await openIncident(ctx, 'backup_failed', 'acme', 'backup of acme failed'), true);
    assert.equal(await openIncident(ctx, 'backup_failed', 'acme', 'backup of acme failed'), false);
    assert.deepEqual(posts, [{ text: 'Strata: backup of acme failed' }]);
    assert.equal(await closeIncident(ctx, 'backup_failed', 'acme'), true);
    assert.equal(await openIncident(ctx, 'backup_failed', 'acme', 'failed again'), true);
    assert.equal(posts.length, 2);
  });

  it('an overdue tenant: one webhook, closed once a backup arrives; paused is not overdue', async () => {
    await addTinyTenants(db, ['late', 'paused'], { plan: 'premium' });
    await reconcileSchedules(db, config);
    // Both schedules have existed for three days without a backup.
    await db.execute(sql`update backup_schedules set created_at = now() - interval '3 days'`);
    await db.execute(sql`update backup_schedules set is_paused = true where tenant_id = 'paused'`);
    const first = await checkOverdue({ db, config });
    assert.deepEqual(first, { opened: ['late'], closed: [] });
    assert.equal(posts.length, 1);
    assert.match(posts[0]!.text, /tenant late is overdue/);
    assert.deepEqual(await checkOverdue({ db, config }), { opened: [], closed: [] });
    assert.equal(posts.length, 1, 'no repeat while it lasts');
    await db.execute(sql`insert into backup_jobs (tenant_id, storage_tier, origin, status, started_at, completed_at)
      values ('late', 's3_standard', 'daily', 'completed', now() - interval '1 hour', now())`);
    assert.deepEqual(await checkOverdue({ db, config }), { opened: [], closed: ['late'] });
  });
});
