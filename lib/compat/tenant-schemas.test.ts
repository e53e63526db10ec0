// Real-SaaS compatibility, tenant schemas: tenants built by an application (its roles, grants, default
// privileges, RLS, types, `public` pieces, odd names) are carried exactly — fingerprint equal — by an
// in-place restore, its undo and a clone, through S3 and through B2; the moved-aside copy keeps its own
// default privileges; what cannot be carried is refused before anything is touched.
import { queryOnce } from '../testing/pg-env.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { quoteIdent } from '../db/ident.ts';
import { restoreJobs, type BackupJobRow } from '../db/schema.ts';
import { createRestore, createUndo } from '../restore/create.ts';
import { DependentObjectsError } from '../restore/errors.ts';
import { runRestore, type RestoreContext } from '../restore/run-restore.ts';
import { createStores } from '../storage/registry.ts';
import { createTestBackups } from '../testing/fixture-backup.ts';
import { schemaFingerprint, type SchemaFingerprint } from '../testing/compat/fingerprint.ts';
import {
  changeOddTenant,
  changeRichTenant,
  createCompatRoles,
  createOddTenant,
  createRichTenant,
  cut,
  dropCompatRoles,
  prepareApplicationPublic,
  type CompatRoles,
} from '../testing/compat/fixtures.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';

const TIERS = ['s3_standard', 'b2_cold'] as const;
const RICH = { id: 'cx-rich-1', schema: 'tenant_rich_eu' };
/** Quotes, spaces, dots and unicode in 63-byte schema, table and column names; an id like `42`. */
const ODD = {
  id: '42',
  schema: cut(`Quote "Q" Tenant.v2 Ünïcødé テナント ${'x'.repeat(63)}`, 63),
  names: { table: cut(`order "items".v1 für テスト ${'t'.repeat(63)}`, 63), column: cut(`Unit Price.€ "Größe" ${'c'.repeat(63)}`, 63) },
};

describe('tenant schemas built by an application: exact through in place, undo and clone (S3 and B2)', () => {
  let stack: TestStack;
  let ctx: RestoreContext;
  let url: string;
  let roles: CompatRoles;
  const original: Record<string, SchemaFingerprint> = {};
  const backups: Record<string, Record<string, BackupJobRow>> = {};

  const exec = (text: string) => queryOnce(url, text);
  const orphanDefaultAcls = async () =>
    Number(
      (await exec(`SELECT count(*) AS n FROM pg_default_acl WHERE defaclnamespace <> 0 AND defaclnamespace NOT IN (SELECT oid FROM pg_namespace)`))
        .rows[0].n,
    );
  const both = (a: string, b: string) => Promise.all([schemaFingerprint(url, a), schemaFingerprint(url, b)]);
  const strataSchemas = async () => (await exec(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'strata\\_%' ORDER BY 1`)).rows;

  before(async () => {
    stack = await startTestStack();
    url = stack.config.DATABASE_URL;
    ctx = { db: stack.db, config: stack.config, stores: createStores(stack.config) };
    roles = await createCompatRoles(url);
    await prepareApplicationPublic(url, roles);
    await createRichTenant(url, roles, RICH.id, RICH.schema);
    await createOddTenant(url, roles, ODD.id, ODD.schema, ODD.names);
    for (const t of [RICH, ODD]) {
      original[t.schema] = await schemaFingerprint(url, t.schema);
      // One dump per tenant, stored in S3 and in B2.
      backups[t.schema] = await createTestBackups(ctx, t.id, [...TIERS]);
    }
  });
  after(async () => {
    if (roles) await dropCompatRoles(url, roles).catch(() => {});
    await stack?.stop();
  });

  /**
   * In place (the moved-aside copy is the live tenant as it was, its default privileges included),
   * undo (the other way round), clone (exact under another name, the live tenant untouched); then
   * the tenant is put back as it was backed up, for the next store.
   */
  async function roundTrip(tenant: { id: string; schema: string }, tier: string, change: () => Promise<void>) {
    const backup = backups[tenant.schema]![tier]!;
    await change();
    const changed = await schemaFingerprint(url, tenant.schema);
    assert.notDeepEqual(changed.rows, original[tenant.schema]!.rows, `${tenant.id}: the change after the backup shows in the rows`);
    assert.notDeepEqual(
      changed.defaultPrivileges,
      original[tenant.schema]!.defaultPrivileges,
      `${tenant.id}: and in the schema's default privileges`,
    );

    const restore = await runRestore(ctx, (await createRestore(stack.db, { backupId: backup.id, mode: 'in_place', requestedBy: 'test' })).id);
    assert.equal(restore.status, 'completed', restore.errorMessage ?? '');
    const [restored, movedAside] = await both(tenant.schema, restore.movedAsideSchema!);
    assert.deepEqual(restored, original[tenant.schema], `${tenant.id}: in place: exactly the backed-up schema`);
    assert.deepEqual(movedAside, changed, `${tenant.id}: the moved-aside copy keeps its own state, default privileges included`);

    const undo = await runRestore(ctx, (await createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' })).id);
    assert.equal(undo.status, 'completed', undo.errorMessage ?? '');
    const [undone, keptAside] = await both(tenant.schema, undo.movedAsideSchema!);
    assert.deepEqual(undone, changed, `${tenant.id}: undo: exactly the schema as it was before the restore`);
    assert.deepEqual(keptAside, original[tenant.schema], `${tenant.id}: the restored version is kept aside`);

    const cloneName = cut(`Clone ${tier} "ü" ${tenant.schema}`, 63);
    const clone = await runRestore(
      ctx,
      (await createRestore(stack.db, { backupId: backup.id, mode: 'clone', targetSchema: cloneName, requestedBy: 'test' })).id,
    );
    assert.equal(clone.status, 'completed', clone.errorMessage ?? '');
    const [cloned, untouched] = await both(cloneName, tenant.schema);
    assert.deepEqual(cloned, original[tenant.schema], `${tenant.id}: clone: exactly the backed-up schema`);
    assert.deepEqual(untouched, changed, `${tenant.id}: a clone never touches the live tenant`);

    // Put the backed-up version back; dropping a schema drops its default privileges with it.
    await exec(`DROP SCHEMA ${quoteIdent(cloneName)} CASCADE; DROP SCHEMA ${quoteIdent(tenant.schema)} CASCADE;
      ALTER SCHEMA ${quoteIdent(undo.movedAsideSchema!)} RENAME TO ${quoteIdent(tenant.schema)};`);
  }

  // The two tenants' round trips run side by side (one restore per tenant at a time is the rule, not
  // one per database): the file's wall time stays bounded on a shared machine.
  for (const tier of TIERS) {
    it(`a rich tenant and a tenant with names that need quoting, in place, undo and clone, through ${tier}`, async () => {
      assert.ok(original[RICH.schema]!.defaultPrivileges.length >= 6, 'the fixture has per-schema default privileges');
      // allSettled: a failure in one does not end the test while the other is still restoring.
      const results = await Promise.allSettled([
        roundTrip(RICH, tier, () => changeRichTenant(url, roles, RICH.schema)),
        roundTrip(ODD, tier, () => changeOddTenant(url, roles, ODD.schema, ODD.names)),
      ]);
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      assert.equal(await orphanDefaultAcls(), 0, 'dropped schemas took their default privileges with them');
      assert.deepEqual(await strataSchemas(), []);
    });
  }

  /** An in-place restore that must be refused before touching anything, naming why. */
  async function expectRefused(): Promise<string> {
    const live = await schemaFingerprint(url, RICH.schema);
    const restore = await createRestore(stack.db, { backupId: backups[RICH.schema]!.b2_cold!.id, mode: 'in_place', requestedBy: 'test' });
    const err = await runRestore(ctx, restore.id).then(
      () => assert.fail('the restore should have been refused'),
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof DependentObjectsError, `${err.name}: ${err.message}`);
    const [row] = await stack.db.select().from(restoreJobs).where(eq(restoreJobs.id, restore.id));
    assert.equal(row!.status, 'failed');
    // The row keeps the message's first 4,000 characters.
    assert.match(row!.errorMessage!, /^refused: objects in other schemas depend on schema/);
    assert.ok(err.message.startsWith(row!.errorMessage!));
    assert.equal(row!.movedAsideSchema, null);
    assert.deepEqual(await schemaFingerprint(url, RICH.schema), live, 'the tenant is unchanged');
    assert.deepEqual(await strataSchemas(), [], 'nothing moved aside');
    return err.message;
  }

  it('refused, naming each, tenant unchanged: publications FOR TABLES IN SCHEMA / FOR TABLE, an extension in the schema, a view in public', async () => {
    const s = quoteIdent(RICH.schema);
    await exec(`CREATE PUBLICATION cx_schema_pub FOR TABLES IN SCHEMA ${s}; CREATE PUBLICATION cx_table_pub FOR TABLE ${s}.orders;
      CREATE EXTENSION hstore WITH SCHEMA ${s}; CREATE VIEW public.cx_report AS SELECT count(*) AS n FROM ${s}.customers;`);
    try {
      const message = await expectRefused();
      // pg_dump -n carries neither publication membership nor extensions; a rename would leave the
      // publications and the view on the moved-aside copy.
      assert.match(message, /publication of schema tenant_rich_eu in publication cx_schema_pub/);
      assert.match(message, /publication of table tenant_rich_eu\.orders in publication cx_table_pub/);
      assert.match(message, /extension hstore \(depends on schema tenant_rich_eu\)/);
      assert.doesNotMatch(message, /cast from|operator family/, 'the extension is named, not each of its members');
      assert.match(message, /view cx_report \(depends on table tenant_rich_eu\.customers/);
    } finally {
      await exec(`DROP PUBLICATION cx_schema_pub, cx_table_pub; DROP EXTENSION hstore; DROP VIEW public.cx_report;`);
    }
  });

  it('undo refused, both copies unchanged, when a view in public selects from the restored tenant', async () => {
    const s = quoteIdent(RICH.schema);
    const restore = await runRestore(
      ctx,
      (await createRestore(stack.db, { backupId: backups[RICH.schema]!.s3_standard!.id, mode: 'in_place', requestedBy: 'test' })).id,
    );
    assert.equal(restore.status, 'completed', restore.errorMessage ?? '');
    await exec(`CREATE VIEW public.cx_revenue AS SELECT sum(total_cents) AS cents FROM ${s}.orders`);
    const [live, aside] = await both(RICH.schema, restore.movedAsideSchema!);
    try {
      const undo = await createUndo(stack.db, { restoreId: restore.id, requestedBy: 'test' });
      await assert.rejects(runRestore(ctx, undo.id), (e: unknown) => e instanceof DependentObjectsError && /view cx_revenue/.test(e.message));
      assert.deepEqual(await both(RICH.schema, restore.movedAsideSchema!), [live, aside]);
    } finally {
      await exec(`DROP VIEW public.cx_revenue; DROP SCHEMA ${quoteIdent(restore.movedAsideSchema!)} CASCADE`);
    }
  });
});
