// `strata tenant add / set-tier`: a convenience that writes the platform tables the SaaS app owns.
// The app may write them directly; Strata's worker follows either way (schedule reconciliation).
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { databaseFailureOf } from '../db/errors.ts';
import { platformTenantsSql } from '../db/platform.ts';
import { planSchema, schemaNameSchema, tenantIdSchema, type Plan } from '../domain.ts';

export class TenantError extends Error {
  constructor(
    message: string,
    readonly code: 'bad_request' | 'not_found' | 'conflict',
    readonly field?: string,
  ) {
    super(message);
  }
}

function check<T>(schema: { safeParse(v: unknown): { success: boolean; data?: T; error?: { issues: { message: string }[] } } }, value: unknown, field: string): T {
  const res = schema.safeParse(value);
  if (!res.success) throw new TenantError(`${field}: ${res.error?.issues[0]?.message ?? 'invalid'}`, 'bad_request', field);
  return res.data as T;
}

export interface NewTenant {
  id: string;
  name: string;
  schemaName: string;
  plan: Plan;
}

export async function addTenant(db: Db, input: NewTenant): Promise<void> {
  const id = check<string>(tenantIdSchema, input.id, 'id');
  const schemaName = check<string>(schemaNameSchema, input.schemaName, 'schema');
  const plan = check<Plan>(planSchema, input.plan, 'tier');
  if (!input.name.trim()) throw new TenantError('name: must not be empty', 'bad_request', 'name');
  await db.transaction(async (tx) => {
    const schema = await tx.execute(sql`select 1 from pg_namespace where nspname = ${schemaName}`);
    if (schema.rowCount === 0) {
      throw new TenantError(`schema ${JSON.stringify(schemaName)} does not exist in the database`, 'not_found', 'schema');
    }
    const clash = await tx.execute<{ id: string }>(
      sql`select t.id from ${platformTenantsSql} t where t.id = ${id} or t.schema_name = ${schemaName}`,
    );
    if (clash.rows.length > 0) {
      throw new TenantError(`tenant ${clash.rows[0]!.id} already exists or already uses that schema`, 'conflict', 'id');
    }
    // Only the contract's columns: the application's own get their defaults (or its triggers' values).
    await tx
      .execute(sql`insert into tenants (id, name, schema_name) values (${id}, ${input.name.trim()}, ${schemaName})`)
      .catch(rejectIdType(id));
    await tx.execute(sql`insert into tenant_subscriptions (tenant_id, tier_id) values (${id}, ${plan})`).catch(rejectIdType(id));
  });
}

/** An id the application's tenants.id type cannot hold (e.g. "acme" for a bigint or uuid id) is a usage error. */
function rejectIdType(id: string) {
  return (err: unknown): never => {
    const failure = databaseFailureOf(err);
    if (failure?.sqlstate === '22P02') {
      throw new TenantError(`id: ${JSON.stringify(id)} does not fit the type of the application's tenants.id`, 'bad_request', 'id');
    }
    throw err;
  };
}

export async function setTenantPlan(db: Db, tenantId: string, plan: Plan): Promise<{ previous: string | null }> {
  const id = check<string>(tenantIdSchema, tenantId, 'id');
  const tier = check<Plan>(planSchema, plan, 'tier');
  return db.transaction(async (tx) => {
    const tenant = await tx.execute(sql`select 1 from ${platformTenantsSql} t where t.id = ${id}`);
    if (tenant.rowCount === 0) throw new TenantError(`no tenant with id ${id}`, 'not_found', 'id');
    const prev = await tx.execute<{ tier_id: string }>(
      sql`select tier_id::text from tenant_subscriptions where tenant_id::text = ${id} for update`,
    );
    if (prev.rows.length) await tx.execute(sql`update tenant_subscriptions set tier_id = ${tier} where tenant_id::text = ${id}`);
    else await tx.execute(sql`insert into tenant_subscriptions (tenant_id, tier_id) values (${id}, ${tier})`);
    return { previous: prev.rows[0]?.tier_id ?? null };
  });
}
