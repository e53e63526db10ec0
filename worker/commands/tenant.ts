// `strata tenant add | set-tier | list | remove`
import { getDb } from '../../lib/db/client.ts';
import { planSchema } from '../../lib/domain.ts';
import { addTenant, setTenantPlan, TenantError } from '../../lib/tenants/manage.ts';
import { tenantProtection, tierLabel } from '../../lib/tenants/protection.ts';
import { CliError, config, EXIT, flags, output, required, usage, valid } from '../cli-kit.ts';

export function tenantErrorToCli(err: unknown): never {
  if (err instanceof TenantError) {
    throw new CliError(err.message, err.code === 'conflict' ? EXIT.conflict : err.code === 'bad_request' ? EXIT.usage : EXIT.error, err.code);
  }
  throw err;
}

export async function tenantCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const f = flags(rest, { id: { type: 'string' }, name: { type: 'string' }, schema: { type: 'string' }, tier: { type: 'string' } });
      const cfg = config(['database']);
      const input = {
        id: required(f.id, 'id'),
        name: required(f.name, 'name'),
        schemaName: required(f.schema, 'schema'),
        plan: valid(planSchema, required(f.tier, 'tier'), 'tier'),
      };
      await addTenant(getDb(cfg.DATABASE_URL), input).catch(tenantErrorToCli);
      output(!!f.json).result(
        { tenant: { id: input.id, name: input.name, schema_name: input.schemaName, tier: input.plan } },
        `Added tenant ${input.id} (${input.plan}). The worker creates its schedules within a minute.`,
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
    case 'list': {
      const f = flags(rest, {});
      const cfg = config(['database']);
      const tenants = await tenantProtection(getDb(cfg.DATABASE_URL), cfg);
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
      throw usage(`unknown tenant command ${JSON.stringify(sub ?? '')} (add, set-tier, list, remove)`);
  }
}
