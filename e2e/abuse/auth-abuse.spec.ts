// The authorization matrix, extended (e2e/authz/api-matrix.spec.ts covers anonymous, viewer,
// operator and admin × every mutation route): a revoked API token and an expired session × every
// mutation (both API routes and a server action) → 401, nothing created. And sign-in throttling
// under a burst of concurrent wrong passwords: at most five password checks, then locked.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { createApiToken, revokeApiToken } from '../../lib/auth/tokens.ts';
import { MAX_FAILURES } from '../../lib/auth/throttle.ts';
import { runCase, TRIALS } from '../../lib/reliability/harness.ts';
import { completedBackup } from '../api.ts';
import { signIn, tenantPath } from '../helpers.ts';
import { sql, USERS } from '../stack.ts';
import { COOKIE, db, sessionCookie } from './support.ts';

test.describe.configure({ mode: 'serial' });


let backupId = '';
test.beforeAll(async ({ request }) => {
  backupId = await completedBackup(request, 'harbor-care');
});

const mutations = () => [
  { route: '/api/backups/create', body: { tenant_id: 'harbor-care', storage_tier: 's3_standard' } },
  { route: '/api/backups/restore', body: { tenant_id: 'harbor-care', backup_job_id: backupId, mode: 'clone', target_schema: 'harbor_authz_x', confirm: 'harbor_authz_x' } },
];
const createdSince = async (since: Date) =>
  (await sql<{ n: number }>(`select (select count(*) from backup_jobs where created_at > $1 and requested_by <> 'scheduler') + (select count(*) from restore_jobs where created_at > $1) as n`, [since]))[0]!.n;

test('a revoked API token and an expired session × every mutation route → 401, nothing created', async ({ request, playwright }) => {
  const admin = await createApiToken(db(), { name: `e2e-revoked-${Date.now()}`, role: 'admin', createdBy: 'e2e-abuse' });
  // Control: the same token works before it is revoked (so the 401 below is the revocation's doing).
  const ok = await request.get('/api/backups/tenant/harbor-care', { headers: { authorization: `Bearer ${admin.secret}` } });
  expect(ok.status()).toBe(200);
  await revokeApiToken(db(), admin.id);

  const baseURL = test.info().project.use.baseURL!;
  const withCookie = async (value: string) =>
    playwright.request.newContext({ baseURL, extraHTTPHeaders: { cookie: `${COOKIE}=${value}` } });
  const fresh = await withCookie(await sessionCookie(USERS.admin.email, 3600));
  const expired = await withCookie(await sessionCookie(USERS.admin.email, -60));
  // Control: a fresh session cookie made the same way is accepted.
  expect((await fresh.get('/api/backups/tenant/harbor-care')).status()).toBe(200);

  const since = new Date();
  await runCase('Authorization: revoked token, expired session × every mutation route', 'abuse', async () => {
    const outcomes: string[] = [];
    for (const m of mutations()) {
      const callers: [string, APIRequestContext, Record<string, string>][] = [
        ['revoked token', request, { authorization: `Bearer ${admin.secret}` }],
        ['expired session', expired, {}],
      ];
      for (const [who, ctx, headers] of callers) {
        const res = await ctx.post(m.route, { headers, data: m.body });
        expect(res.status(), `${who} POST ${m.route}`).toBe(401);
        expect((await res.json()).error.code).toBe('unauthorized');
        outcomes.push(`${who} → 401`);
      }
    }
    expect(await createdSince(since)).toBe(0);
    return outcomes;
  });
  await fresh.dispose();
  await expired.dispose();
});

test('an expired session replaying a captured server action is refused', async ({ page, playwright }) => {
  await signIn(page, 'operator');
  await page.goto(tenantPath('harbor-care'));
  const captured = page.waitForRequest((r) => r.method() === 'POST' && r.headers()['next-action'] !== undefined);
  await page.getByRole('button', { name: 'Back up now' }).click();
  const req = await captured;
  await expect(page.getByTestId('backup-now-progress')).toBeVisible();
  const since = new Date();
  const expired = await playwright.request.newContext({ extraHTTPHeaders: { cookie: `${COOKIE}=${await sessionCookie(USERS.admin.email, -60)}` } });
  const res = await expired.post(req.url(), {
    headers: { 'next-action': req.headers()['next-action']!, 'content-type': req.headers()['content-type']!, accept: 'text/x-component' },
    data: req.postDataBuffer()!,
  });
  expect(res.status()).toBeLessThan(500);
  expect(await res.text()).not.toMatch(/harbor-care.*queued|"job"/);
  await expired.dispose();
  expect(await sql(`select 1 from backup_jobs where created_at > $1 and requested_by = $2`, [since, USERS.admin.email])).toHaveLength(0);
});

test('sign-in throttling holds under a burst of concurrent wrong passwords', async ({ playwright }) => {
  test.setTimeout(60_000 + TRIALS * 10_000);
  const baseURL = test.info().project.use.baseURL!;
  await runCase('Sign-in throttling under a burst of wrong passwords', 'abuse', async (t) => {
    const email = `burst-${t}-${Date.now()}@strata.test`;
    await sql(`insert into users (email, password_hash, role) select $1, password_hash, 'viewer' from users where email = $2`, [email, USERS.viewer.email]);
    const ctx = await playwright.request.newContext({ baseURL });
    const { csrfToken } = (await (await ctx.get('/api/auth/csrf')).json()) as { csrfToken: string };
    const attempt = (password: string) =>
      ctx.post('/api/auth/callback/credentials', { form: { email, password, csrfToken, callbackUrl: '/' }, maxRedirects: 0 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`wrong-password-${i}`)));
    const checks = await sql<{ reason: string; n: number }>(
      `select details->>'reason' as reason, count(*)::int as n from audit_log where action = 'auth.sign_in_failed' and target = $1 group by 1`,
      [email],
    );
    const checked = checks.find((c) => c.reason === 'bad_credentials')?.n ?? 0;
    expect(checked, `password checks in a burst of 20 (${JSON.stringify(checks)})`).toBeLessThanOrEqual(MAX_FAILURES);
    // Attempts beyond STRATA_SIGNIN_CONCURRENCY that found no free slot in time (a loaded machine)
    // were told to try again, unchecked: retry one at a time until the fifth check locks the email.
    for (let retry = checked; retry < MAX_FAILURES; retry++) await attempt(`wrong-password-retry-${retry}`);
    const after = await sql<{ n: number }>(
      `select count(*)::int as n from audit_log where action = 'auth.sign_in_failed' and target = $1 and details->>'reason' = 'bad_credentials'`,
      [email],
    );
    expect(after[0]!.n).toBe(MAX_FAILURES);
    // The right password now is refused too.
    const right = await attempt(USERS.viewer.password);
    expect(right.headers().location ?? '').not.toMatch(/^\/?$|\/$/);
    const cookies = await ctx.storageState();
    expect(cookies.cookies.some((c) => c.name === COOKIE)).toBe(false);
    await ctx.dispose();
    return `burst of 20: ${checked} password checks, then locked (right password refused)`;
  });
});
