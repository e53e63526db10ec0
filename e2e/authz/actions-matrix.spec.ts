// The authorization matrix of every server action: each mutation the dashboard's pages can call,
// posted the way the browser posts it (the action id from the build's server-reference manifest,
// React's reply encoding) as anonymous, viewer, operator and admin. Roles below the action's minimum
// are refused by the server itself and change nothing; the others succeed and leave an audit entry.
// (The API routes' matrix is api-matrix.spec.ts; the UI flows are in the other specs.)
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { closeDb } from '../../lib/db/client.ts';
import { createDemoTenant } from '../../lib/testing/tenant-data.ts';
import { bearer, completedBackup, restoreStatus } from '../api.ts';
import { COOKIE, sessionCookie } from '../abuse/support.ts';
import { readState, sql, USERS } from '../stack.ts';

test.describe.configure({ mode: 'serial' });

type Role = 'viewer' | 'operator' | 'admin';
type Who = 'anonymous' | Role;
const RANK: Record<Who, number> = { anonymous: 0, viewer: 1, operator: 2, admin: 3 };
// Signed in as someone who is not (or no longer) a user: the proxy lets the request through, so
// this reaches the action's own check. Without any cookie the proxy redirects to the sign-in page.
const GHOST = 'nobody@strata.test';
const RUN = Date.now().toString(36);
const LEAVING = { id: `leaving-${RUN}`, name: `Leaving ${RUN}`, schemaName: `leaving_${RUN}`, plan: 'basic', patients: 5 } as const;
const UNDONE = { id: `undone-${RUN}`, name: `Undone ${RUN}`, schemaName: `undone_${RUN}`, plan: 'basic', patients: 5 } as const;

function actionIds(): Map<string, string> {
  const manifest = JSON.parse(fs.readFileSync(path.join('.next', 'server', 'server-reference-manifest.json'), 'utf8')) as {
    node: Record<string, { filename: string; exportedName: string }>;
  };
  return new Map(Object.entries(manifest.node).map(([id, a]) => [`${a.filename}#${a.exportedName}`, id]));
}

async function cookieFor(who: Who): Promise<string> {
  return `${COOKIE}=${await sessionCookie(who === 'anonymous' ? GHOST : USERS[who].email, 600)}`;
}

interface Answer {
  status: number;
  text: string;
}

async function callAction(request: APIRequestContext, page: string, id: string, input: Record<string, string>, cookie?: string): Promise<Answer> {
  const res = await request.post(page, {
    headers: { 'next-action': id, accept: 'text/x-component', 'content-type': 'text/plain;charset=UTF-8', ...(cookie ? { cookie } : {}) },
    data: JSON.stringify([null, input]),
    maxRedirects: 0,
  });
  return { status: res.status(), text: await res.text() };
}

const auditCount = async (actor: string) => (await sql<{ n: number }>(`select count(*)::int as n from audit_log where actor = $1`, [actor]))[0]!.n;
const audited = async (actor: string, action: string) =>
  (await sql<{ n: number }>(`select count(*)::int as n from audit_log where actor = $1 and action = $2`, [actor, action]))[0]!.n;

interface ActionCase {
  file: string;
  name: string;
  page: string;
  min: Role;
  /** What a successful call records in audit_log (null: a read, nothing to record). */
  audit: ((input: Record<string, string>) => string) | null;
  input: (who: Who) => Promise<Record<string, string>>;
  /** Once, before the four calls: what the action needs to exist. */
  before?: (request: APIRequestContext) => Promise<void>;
  /** After a success: wait for what it started, undo what would disturb other specs. */
  after?: (request: APIRequestContext, answer: Answer, input: Record<string, string>) => Promise<void>;
}

const TENANT_ACTIONS = 'app/(dashboard)/tenants/[tenantId]/actions.ts';
const USER_ACTIONS = 'app/(dashboard)/users/actions.ts';
const POLICY_ACTIONS = 'app/(dashboard)/policies/actions.ts';
const tenantPage = (id: string) => `/tenants/${id}`;

let backupId = '';
const made = { userId: '', tokenId: '', restoreId: '' };

const cases: ActionCase[] = [
  {
    file: TENANT_ACTIONS, name: 'backupNowAction', page: tenantPage('harbor-care'), min: 'operator', audit: () => 'backup.create',
    input: async () => ({ tenantId: 'harbor-care', storageTier: 'b2_cold' }),
  },
  {
    file: TENANT_ACTIONS, name: 'verifyAction', page: tenantPage('harbor-care'), min: 'operator', audit: () => 'verification.create',
    input: async () => ({ tenantId: 'harbor-care', backupId }),
  },
  {
    file: TENANT_ACTIONS, name: 'restoreAction', page: tenantPage('harbor-care'), min: 'admin', audit: () => 'restore.create',
    input: async (who) => ({ tenantId: 'harbor-care', backupId, mode: 'clone', targetSchema: `harbor_action_${who}_${RUN}`, confirm: `harbor_action_${who}_${RUN}` }),
    after: async (request) => {
      const [row] = await sql<{ id: string }>(`select id from restore_jobs where target_schema = $1`, [`harbor_action_admin_${RUN}`]);
      await expect.poll(() => restoreStatus(request, row!.id), { timeout: 90_000 }).toMatch(/completed|failed/);
    },
  },
  {
    file: TENANT_ACTIONS, name: 'undoAction', page: tenantPage(UNDONE.id), min: 'admin', audit: () => 'restore.undo',
    // An in-place restore through the API, so that there is something to undo.
    before: async (request) => {
      const backup = await completedBackup(request, UNDONE.id);
      const res = await request.post('/api/backups/restore', {
        headers: bearer('admin'),
        data: { tenant_id: UNDONE.id, backup_job_id: backup, mode: 'in_place', confirm: UNDONE.name },
      });
      expect(res.status()).toBe(202);
      made.restoreId = (await res.json()).restore.id;
      await expect.poll(() => restoreStatus(request, made.restoreId), { timeout: 90_000 }).toBe('completed');
    },
    input: async () => ({ tenantId: UNDONE.id, restoreId: made.restoreId }),
    after: async (request, answer) => {
      const undoId = /"id":"([0-9a-f-]{36})"/.exec(answer.text)?.[1];
      expect(undoId, 'the undo job id in the answer').toBeTruthy();
      await expect.poll(() => restoreStatus(request, undoId!), { timeout: 90_000 }).toBe('completed');
    },
  },
  {
    file: TENANT_ACTIONS, name: 'holdAction', page: tenantPage('harbor-care'), min: 'admin', audit: () => 'backup.legal_hold_on',
    input: async () => ({ tenantId: 'harbor-care', backupId, on: 'true' }),
  },
  {
    file: TENANT_ACTIONS, name: 'holdAction', page: tenantPage('harbor-care'), min: 'admin', audit: () => 'backup.legal_hold_off',
    input: async () => ({ tenantId: 'harbor-care', backupId, on: 'false' }),
  },
  {
    file: TENANT_ACTIONS, name: 'scheduleAction', page: tenantPage('st-anne'), min: 'admin', audit: () => 'schedule.pause',
    input: async () => ({ tenantId: 'st-anne', scheduleType: 'weekly', paused: 'true' }),
  },
  {
    file: TENANT_ACTIONS, name: 'scheduleAction', page: tenantPage('st-anne'), min: 'admin', audit: () => 'schedule.resume',
    input: async () => ({ tenantId: 'st-anne', scheduleType: 'weekly', paused: 'false' }),
  },
  {
    file: TENANT_ACTIONS, name: 'removeTenantAction', page: tenantPage(LEAVING.id), min: 'admin', audit: () => 'tenant.remove',
    input: async () => ({ tenantId: LEAVING.id, purgeBackups: 'false', confirm: LEAVING.id }),
  },
  {
    file: POLICY_ACTIONS, name: 'previewPolicyAction', page: '/policies', min: 'admin', audit: null,
    input: async () => policyOf('advanced'),
  },
  {
    file: POLICY_ACTIONS, name: 'savePolicyAction', page: '/policies', min: 'admin', audit: () => 'policy.update',
    input: async () => policyOf('advanced'),
  },
  {
    file: POLICY_ACTIONS, name: 'previewLayoutAction', page: '/policies', min: 'admin', audit: null,
    input: async () => ({ plan: 'advanced', layout: 'cost-optimized' }),
  },
  {
    file: POLICY_ACTIONS, name: 'saveLayoutAction', page: '/policies', min: 'admin', audit: () => 'policy.layout',
    input: async () => ({ plan: 'advanced', layout: 'cost-optimized' }),
    // The later specs expect the seed preset (layout and full backups).
    after: async () => {
      await sql(`update backup_retention_policies set layout = 'seed', incremental_origins = '{}' where tier_id = 'advanced'`);
    },
  },
  {
    file: POLICY_ACTIONS, name: 'saveBackupTypesAction', page: '/policies', min: 'admin', audit: () => 'policy.backup_types',
    input: async () => ({ plan: 'advanced', incremental: 'monthly' }),
    // The later specs expect full backups only.
    after: async () => {
      await sql(`update backup_retention_policies set incremental_origins = '{}' where tier_id = 'advanced'`);
    },
  },
  {
    file: USER_ACTIONS, name: 'createUserAction', page: '/users', min: 'admin', audit: () => 'user.create',
    input: async (who) => ({ email: `matrix-${who}-${RUN}@strata.test`, role: 'viewer', password: 'matrix-password-123' }),
    after: async () => {
      made.userId = (await sql<{ id: string }>(`select id from users where email = $1`, [`matrix-admin-${RUN}@strata.test`]))[0]!.id;
    },
  },
  {
    file: USER_ACTIONS, name: 'setUserRoleAction', page: '/users', min: 'admin', audit: () => 'user.set_role',
    input: async () => ({ userId: made.userId, role: 'operator' }),
  },
  {
    file: USER_ACTIONS, name: 'setUserDisabledAction', page: '/users', min: 'admin', audit: () => 'user.disable',
    input: async () => ({ userId: made.userId, disabled: 'true' }),
  },
  {
    file: USER_ACTIONS, name: 'createTokenAction', page: '/users', min: 'admin', audit: () => 'token.create',
    input: async (who) => ({ name: `matrix-${who}-${RUN}`, role: 'viewer' }),
    after: async () => {
      made.tokenId = (await sql<{ id: string }>(`select id from api_tokens where name = $1`, [`matrix-admin-${RUN}`]))[0]!.id;
    },
  },
  {
    file: USER_ACTIONS, name: 'revokeTokenAction', page: '/users', min: 'admin', audit: () => 'token.revoke',
    input: async () => ({ tokenId: made.tokenId }),
  },
];

async function policyOf(plan: string): Promise<Record<string, string>> {
  const [p] = await sql<{ d: number; w: number; m: number }>(
    `select daily_retention_days as d, weekly_retention_weeks as w, monthly_retention_months as m from backup_retention_policies where tier_id = $1`,
    [plan],
  );
  return { plan, dailyRetentionDays: String(p!.d), weeklyRetentionWeeks: String(p!.w), monthlyRetentionMonths: String(p!.m) };
}

test.beforeAll(async ({ request }) => {
  backupId = await completedBackup(request, 'harbor-care');
  const url = readState().databaseUrl;
  await createDemoTenant(url, LEAVING);
  await createDemoTenant(url, UNDONE);
  await closeDb(url);
});

test('every server action in the build is in this matrix', () => {
  const inBuild = [...actionIds().keys()].filter((k) => !k.startsWith('app/signin/') && !k.startsWith('app/(dashboard)/layout.tsx'));
  const covered = new Set(cases.map((c) => `${c.file}#${c.name}`));
  expect(inBuild.filter((k) => !covered.has(k))).toEqual([]);
  expect([...covered].filter((k) => !inBuild.includes(k))).toEqual([]);
});

test('without a session cookie, a server action is redirected to sign-in and does nothing', async ({ request }) => {
  const ids = actionIds();
  const c = cases[0]!;
  const before = await auditCount('anonymous');
  const answer = await callAction(request, c.page, ids.get(`${c.file}#${c.name}`)!, await c.input('anonymous'));
  expect(answer.status).toBe(307);
  expect(await auditCount('anonymous')).toBe(before);
});

for (const c of cases) {
  test(`${c.name}${c.audit ? ` (${c.audit({})})` : ''}: below ${c.min} refused, ${c.min} and above succeed`, async ({ request }) => {
    const id = actionIds().get(`${c.file}#${c.name}`);
    expect(id, `${c.file}#${c.name} in the server-reference manifest`).toBeTruthy();
    await c.before?.(request);
    for (const who of ['anonymous', 'viewer', 'operator', 'admin'] as const) {
      const actor = who === 'anonymous' ? GHOST : USERS[who].email;
      const input = await c.input(who);
      const before = await auditCount(actor);
      const action = c.audit?.(input);
      const beforeAction = action ? await audited(actor, action) : 0;
      const answer = await callAction(request, c.page, id!, input, await cookieFor(who));
      expect(answer.status, `${c.name} as ${who}`).toBe(200);
      if (RANK[who] < RANK[c.min]) {
        expect(answer.text, `${c.name} as ${who}`).toContain(who === 'anonymous' ? 'sign in or send an API token' : `this needs the ${c.min} role; you are ${who}`);
        expect(answer.text).not.toContain('"ok":true');
        expect(await auditCount(actor), `${c.name} as ${who} recorded nothing`).toBe(before);
      } else {
        expect(answer.text, `${c.name} as ${who}: ${answer.text.slice(0, 500)}`).toContain('"ok":true');
        if (action) expect(await audited(actor, action), `${c.name} as ${who} is audited as ${action}`).toBe(beforeAction + 1);
        if (who === 'admin') await c.after?.(request, answer, input);
      }
    }
  });
}

test('the matrix left its marks: the clone exists, the user and token are as the admin set them', async () => {
  expect(await sql(`select 1 from pg_namespace where nspname = $1`, [`harbor_action_admin_${RUN}`])).toHaveLength(1);
  expect(await sql(`select 1 from pg_namespace where nspname = $1`, [`harbor_action_viewer_${RUN}`])).toHaveLength(0);
  expect(await sql(`select role, disabled_at is not null as disabled from users where id = $1`, [made.userId])).toEqual([{ role: 'operator', disabled: true }]);
  expect(await sql(`select 1 from users where email in ($1, $2)`, [`matrix-viewer-${RUN}@strata.test`, `matrix-operator-${RUN}@strata.test`])).toHaveLength(0);
  expect(await sql(`select revoked_at is not null as revoked from api_tokens where id = $1`, [made.tokenId])).toEqual([{ revoked: true }]);
  expect(await sql(`select 1 from tenants where id = $1`, [LEAVING.id])).toHaveLength(0);
  expect(await sql(`select is_paused from backup_schedules where tenant_id = 'st-anne' and schedule_type = 'weekly'`)).toEqual([{ is_paused: false }]);
});
