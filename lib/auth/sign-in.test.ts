// Sign-in against a real PostgreSQL: the per-email limit ignores the address, password checks hold
// no pooled connection, failed attempts audit an email only when it is one, a password / role /
// disabled change ends sessions, and old failed sign-ins are pruned.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { runMaintenance } from '../../worker/maintenance.ts';
import { auditLog, users } from '../db/schema.ts';
import { createStores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { currentSessionUser } from './session-version.ts';
import { signInWithPassword } from './sign-in.ts';
import { FAILED_SIGN_IN, MAX_FAILURES, pruneFailedSignIns } from './throttle.ts';
import { createUser, setUserDisabled, setUserPassword, setUserRole } from './users.ts';

const PASSWORD = 'the-right-password-1';

describe('sign-in (PostgreSQL)', () => {
  let stack: TestStack;
  let hash = '';
  const reasons = async (target: string) =>
    Object.fromEntries(
      (
        await stack.db
          .select({ reason: sql<string>`${auditLog.details} ->> 'reason'`, n: sql<number>`count(*)::int` })
          .from(auditLog)
          .where(and(eq(auditLog.action, FAILED_SIGN_IN), eq(auditLog.target, target)))
          .groupBy(sql`1`)
      ).map((r) => [r.reason, r.n]),
    );
  const addUser = async (email: string) => {
    await stack.db.insert(users).values({ email, role: 'viewer', passwordHash: hash });
  };

  before(async () => {
    stack = await startTestStack();
    hash = (await stack.db.select().from(users).where(eq(users.id, (await createUser(stack.db, { email: 'seed@strata.test', role: 'viewer', password: PASSWORD })).id)))[0]!.passwordHash!;
  });
  after(async () => {
    await stack?.stop();
  });

  it('50 wrong passwords from 50 addresses: at most 5 password checks, then the email is locked', async () => {
    const email = 'victim@strata.test';
    await addUser(email);
    const outcomes = [];
    // Ten rounds of five at once, each attempt from its own address.
    for (let round = 0; round < 10; round++) {
      outcomes.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, (_, i) => signInWithPassword(stack.db, { email, password: `wrong-${round}-${i}`, ip: `198.51.100.${round * 5 + i}` }, 4)),
        )),
      );
    }
    const counted = await reasons(email);
    assert.ok((counted.bad_credentials ?? 0) <= MAX_FAILURES, JSON.stringify(counted));
    assert.equal(counted.bad_credentials, MAX_FAILURES);
    assert.equal(counted.checking, undefined, 'no reservation left unsettled');
    // The rest were refused unchecked: locked, or (on a loaded machine) told to try again.
    const refusals = outcomes.map((o) => ('refused' in o ? o.refused : 'signed in'));
    assert.equal(refusals.filter((r) => r === 'bad_credentials').length, MAX_FAILURES);
    assert.equal(refusals.filter((r) => r === 'throttled' || r === 'busy').length, 50 - MAX_FAILURES);
    assert.ok(refusals.filter((r) => r === 'throttled').length >= 30, refusals.join());
    // The right password, from yet another address, is refused too.
    const right = await signInWithPassword(stack.db, { email, password: PASSWORD, ip: '203.0.113.250' }, 4);
    assert.deepEqual(right, { refused: 'throttled' });
  });

  it('a right password signs in and leaves no failure behind', async () => {
    const email = 'fine@strata.test';
    await addUser(email);
    const outcome = await signInWithPassword(stack.db, { email: ' Fine@Strata.test ', password: PASSWORD, ip: '127.0.0.1' }, 4);
    assert.ok('user' in outcome && outcome.user.email === email && outcome.user.sessionVersion === 0, JSON.stringify(outcome));
    assert.deepEqual(await reasons(email), {});
  });

  it('30 concurrent sign-ins never hold the pool: at most 4 connections, none waited for, none in a transaction', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `crowd-${i}@strata.test`);
    for (const email of emails) await addUser(email);
    const pool = stack.db.$client;
    let checkedOut = 0;
    let waiting = 0;
    const sampler = setInterval(() => {
      checkedOut = Math.max(checkedOut, pool.totalCount - pool.idleCount);
      waiting = Math.max(waiting, pool.waitingCount);
    }, 2);
    let done = false;
    const burst = Promise.all(emails.map((email) => signInWithPassword(stack.db, { email, password: PASSWORD, ip: '127.0.0.1' }, 4))).finally(() => {
      done = true;
    });
    let samples = 0;
    let busyInTransaction = 0;
    while (!done) {
      const [row] = (
        await stack.db.execute<{ n: number }>(
          // A transaction held across a password check sits idle for the whole bcrypt (cost 12: ≥ 0.2 s);
          // the check's own short transaction is idle only between its statements (milliseconds).
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'idle in transaction'
                and clock_timestamp() - state_change > interval '150 milliseconds'`,
        )
      ).rows;
      busyInTransaction = Math.max(busyInTransaction, row!.n);
      samples++;
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(sampler);
    const outcomes = await burst;
    assert.ok(samples > 3, `${samples} samples`);
    // The sign-ins' four slots plus this test's own probe: the rest of the pool (10) stays free.
    assert.ok(checkedOut <= 5, `${checkedOut} connections checked out at once`);
    assert.equal(waiting, 0, 'no query ever waited for a connection');
    assert.equal(busyInTransaction, 0, 'no connection sat in a transaction for the length of a password check');
    // Each one either signed in or was told to try again; none was checked as a wrong password.
    for (const o of outcomes) assert.ok('user' in o || o.refused === 'busy', JSON.stringify(o));
    assert.ok(outcomes.some((o) => 'user' in o));
  });

  it('a value that is not an email is audited as a hash', async () => {
    const typed = 'my-secret-password-typed-in-the-email-field';
    await signInWithPassword(stack.db, { email: typed, password: 'x', ip: '127.0.0.1' }, 4);
    const rows = await stack.db.select().from(auditLog).where(eq(auditLog.action, FAILED_SIGN_IN));
    assert.ok(!JSON.stringify(rows).includes(typed));
    const hashed = rows.filter((r) => r.target?.startsWith('hash:'));
    assert.equal(hashed.length, 1);
    assert.equal(hashed[0]!.actor, hashed[0]!.target);
  });

  it('a password, role or disabled change ends the sessions issued before it', async () => {
    const user = await createUser(stack.db, { email: 'moving@strata.test', role: 'operator', password: PASSWORD });
    let version = 0;
    for (const change of [
      () => setUserPassword(stack.db, user.id, 'another-password-2'),
      () => setUserRole(stack.db, user.id, 'viewer'),
      () => setUserDisabled(stack.db, user.id, true),
    ]) {
      assert.ok(await currentSessionUser(stack.db, user.email, version), 'the session holds before the change');
      const changed = await change();
      if (changed?.disabledAt) await setUserDisabled(stack.db, user.id, false);
      assert.equal(await currentSessionUser(stack.db, user.email, version), null, 'the old session ends');
      version = (await stack.db.select().from(users).where(eq(users.id, user.id)))[0]!.sessionVersion;
    }
    assert.ok(await currentSessionUser(stack.db, user.email, version), 'a session with the new version holds');
  });

  it("failed sign-ins older than the retention are pruned by the worker's maintenance, nothing else", async () => {
    await stack.db.insert(auditLog).values([
      { actor: 'old@strata.test', action: FAILED_SIGN_IN, target: 'old@strata.test', details: { reason: 'bad_credentials' }, at: new Date(Date.now() - 91 * 86_400_000) },
      { actor: 'admin@strata.test', action: 'user.create', target: 'kept@strata.test', at: new Date(Date.now() - 400 * 86_400_000) },
      { actor: 'recent@strata.test', action: FAILED_SIGN_IN, target: 'recent@strata.test', details: { reason: 'bad_credentials' }, at: new Date(Date.now() - 89 * 86_400_000) },
    ]);
    assert.equal(stack.config.STRATA_AUDIT_SIGNIN_RETENTION_DAYS, 90);
    await runMaintenance({ db: stack.db, config: stack.config, stores: createStores(stack.config), log: pino({ level: 'silent' }), workerId: 'test' });
    const [ran] = (await stack.db.execute<{ last_result: unknown }>(sql`select last_result from periodic_runs where task = 'audit-sign-in-prune'`)).rows;
    assert.deepEqual(ran?.last_result, { deleted: 1 }, 'the chore ran once and deleted the old failed sign-in');
    assert.equal(await pruneFailedSignIns(stack.db, 90), 0, 'nothing left to prune');
    const left = await stack.db.select({ target: auditLog.target }).from(auditLog).where(sql`${auditLog.target} in ('old@strata.test', 'kept@strata.test', 'recent@strata.test')`);
    assert.deepEqual(left.map((r) => r.target).sort(), ['kept@strata.test', 'recent@strata.test']);
  });
});
