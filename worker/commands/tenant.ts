// `strata tenant add | set-tier | set-files-prefix | list | remove`
import { eq, isNotNull } from 'drizzle-orm';
import { audit } from '../../lib/audit.ts';
import { getDb, type Db } from '../../lib/db/client.ts';
import { findPlatformTenant } from '../../lib/db/platform.ts';
import { tenantState } from '../../lib/db/schema.ts';
import { planSchema, tenantIdSchema } from '../../lib/domain.ts';
import type { BaseConfig } from '../../lib/env.ts';
import { filesPrefixSchema, tenantFilesPrefix } from '../../lib/files/index-format.ts';
import { addTenant, setTenantPlan, TenantError } from '../../lib/tenants/manage.ts';
import { tenantProtection, tierLabel } from '../../lib/tenants/protection.ts';
import { CliError, cliActor, config, EXIT, flags, output, required, usage, valid } from '../cli-kit.ts';

export function tenantErrorToCli(err: unknown): never {
  if (err instanceof TenantError) {
    throw new CliError(err.message, err.code === 'conflict' ? EXIT.conflict : err.code === 'bad_request' ? EXIT.usage : EXIT.error, err.code);
  }
  throw err;
}

/**
 * Sets (or, with null, clears) the tenant's own files prefix in tenant_state, audited; the tenant
 * must be in the platform's tenants table. A tenant the worker has not seen yet has no tenant_state
 * row: it gets one (reconciliation fills in its name, schema and plan).
 */
export async function setFilesPrefix(db: Db, config: BaseConfig, tenantId: string, prefix: string | null) {
  const tenant = await findPlatformTenant(db, tenantId);
  if (!tenant) throw new CliError(`no tenant with id ${tenantId} (not in the tenants table)`, EXIT.error, 'not_found');
  const previous = await db.transaction(async (tx) => {
    const [old] = await tx.select({ filesPrefix: tenantState.filesPrefix }).from(tenantState).where(eq(tenantState.tenantId, tenant.id)).for('update');
    await tx
      .insert(tenantState)
      .values({ tenantId: tenant.id, filesPrefix: prefix })
      .onConflictDoUpdate({ target: tenantState.tenantId, set: { filesPrefix: prefix } });
    await audit(tx, {
      actor: cliActor(),
      action: 'tenant.set_files_prefix',
      target: tenant.id,
      details: { files_prefix: prefix, previous: old?.filesPrefix ?? null, via: 'cli' },
    });
    return old?.filesPrefix ?? null;
  });
  return { tenant_id: tenant.id, files_prefix: prefix, effective_prefix: tenantFilesPrefix(config.STRATA_FILES_PREFIX, tenant.id, prefix), previous };
}

/** " (tenant files are off: …)" when STRATA_FILES_BUCKET is unset. Loaded lazily: lib/files/source.ts brings the AWS SDK, which `tenant list` must not load. */
async function filesOffNote(cfg: BaseConfig): Promise<string> {
  const { FILES_OFF_MESSAGE, filesEnabled } = await import('../../lib/files/source.ts');
  return filesEnabled(cfg) ? '' : ` (${FILES_OFF_MESSAGE})`;
}

export async function tenantCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const f = flags(rest, { id: { type: 'string' }, name: { type: 'string' }, schema: { type: 'string' }, tier: { type: 'string' }, 'files-prefix': { type: 'string' } });
      const cfg = config(['database']);
      const input = {
        id: required(f.id, 'id'),
        name: required(f.name, 'name'),
        schemaName: required(f.schema, 'schema'),
        plan: valid(planSchema, required(f.tier, 'tier'), 'tier'),
      };
      // Checked before the tenant is added: a bad prefix adds nothing.
      const filesPrefix = f['files-prefix'] === undefined ? undefined : valid(filesPrefixSchema, f['files-prefix'], 'files-prefix');
      const db = getDb(cfg.DATABASE_URL);
      await addTenant(db, input).catch(tenantErrorToCli);
      const files = filesPrefix === undefined ? null : await setFilesPrefix(db, cfg, input.id, filesPrefix);
      const note = files ? await filesOffNote(cfg) : '';
      output(!!f.json).result(
        { tenant: { id: input.id, name: input.name, schema_name: input.schemaName, tier: input.plan, ...(files ? { files_prefix: files.files_prefix } : {}) } },
        `Added tenant ${input.id} (${input.plan})${files ? ` with files prefix ${files.effective_prefix}${note}` : ''}. The worker creates its schedules within a minute.`,
      );
      return;
    }
    case 'set-tier': {
      const f = flags(rest, { id: { type: 'string' }, tier: { type: 'string' } });
      const cfg = config(['database']);
      const id = required(f.id, 'id');
      const plan = valid(planSchema, required(f.tier, 'tier'), 'tier');
      const { previous } = await setTenantPlan(getDb(cfg.DATABASE_URL), id, plan).catch(tenantErrorToCli);
      output(!!f.json).result(
        { tenant: { id, tier: plan, previous_tier: previous } },
        `Tenant ${id}: ${previous ?? 'no plan'} → ${plan}. Existing backups keep their expiry dates.`,
      );
      return;
    }
    case 'set-files-prefix': {
      const f = flags(rest, { tenant: { type: 'string' }, prefix: { type: 'string' }, clear: { type: 'boolean' } });
      const tenantId = valid(tenantIdSchema, required(f.tenant, 'tenant'), 'tenant');
      if ((f.prefix === undefined) === !f.clear) throw usage('give exactly one of --prefix P or --clear');
      const prefix = f.clear ? null : valid(filesPrefixSchema, f.prefix, 'prefix');
      const cfg = config(['database']);
      const { previous, ...result } = await setFilesPrefix(getDb(cfg.DATABASE_URL), cfg, tenantId, prefix);
      const note = await filesOffNote(cfg);
      output(!!f.json).result(
        result,
        `Tenant ${result.tenant_id}: files prefix ${result.effective_prefix}` +
          (prefix === null ? ` (STRATA_FILES_PREFIX; its own ${previous === null ? 'was not set' : `${previous} cleared`})` : previous === null ? '' : ` (was ${previous})`) +
          note,
      );
      return;
    }
    case 'list': {
      const f = flags(rest, {});
      const cfg = config(['database']);
      const db = getDb(cfg.DATABASE_URL);
      const tenants = await tenantProtection(db, cfg);
      const own = new Map(
        (await db.select({ tenantId: tenantState.tenantId, filesPrefix: tenantState.filesPrefix }).from(tenantState).where(isNotNull(tenantState.filesPrefix))).map((r) => [r.tenantId, r.filesPrefix]),
      );
      output(!!f.json).result(
        {
          tenants: tenants.map(({ id, name, schema_name, tier, subscription_tier_id, plan_known, last_backup_at, status }) => ({
            id,
            name,
            schema_name,
            tier,
            // A tier id the application uses that is not one of Strata's plans: treated as basic.
            ...(plan_known ? {} : { plan_known, subscription_tier_id }),
            last_backup_at,
            status,
            // The effective files prefix: the tenant's own (set-files-prefix), else STRATA_FILES_PREFIX's.
            files_prefix: tenantFilesPrefix(cfg.STRATA_FILES_PREFIX, id, own.get(id)),
          })),
          next_cursor: null,
        },
        () =>
          tenants.length === 0
            ? 'No tenants.'
            : tenants
                .map((t) => `${t.id.padEnd(24)} ${(t.plan_known ? (t.tier ?? '-') : tierLabel(t)).padEnd(9)} ${t.status.padEnd(12)} ${t.last_backup_at ?? 'never backed up'}  ${t.name}`)
                .join('\n'),
      );
      return;
    }
    case 'remove':
      return (await import('./admin.ts')).tenantRemoveCommand(rest);
    default:
      throw usage(`unknown tenant command ${JSON.stringify(sub ?? '')} (add, set-tier, set-files-prefix, list, remove)`);
  }
}
