// `strata policy show [--tier PLAN]` and `strata policy set --tier PLAN [--preset seed|cost-optimized]
// [--incremental ORIGINS|none] [--files ORIGINS|none] [--dry-run] [--yes]`: a plan's copy layout (design.md "Retention") and
// which origins back up incrementally (design.md "Incremental backups"). A preset sets both (its own
// incremental origins unless --incremental names them). The preview is the dry run of the same
// functions saving runs (changeLayout, changeBackupTypes), so what is shown is what --yes does. Audited.
import { asc, eq } from 'drizzle-orm';
import { getDb } from '../../lib/db/client.ts';
import { backupRetentionPolicies } from '../../lib/db/schema.ts';
import { layoutSchema, SCHEDULE_TYPES } from '../../lib/domain.ts';
import { changeBackupTypes, type BackupTypesChange } from '../../lib/api/operations/policy-backup-types.ts';
import { changeFilesOrigins, type FilesOriginsChange } from '../../lib/api/operations/policy-files.ts';
import { ApiError } from '../../lib/api/errors.ts';
import { changeLayout, describePolicy, unchanged, type LayoutChange } from '../../lib/api/operations/policy-layout.ts';
import { pricesFromConfig } from '../../lib/cost/billing.ts';
import { keepText, type CopySpec } from '../../lib/retention/layouts.ts';
import { CliError, cliActor, config, EXIT, flags, originList, output, required, usage } from '../cli-kit.ts';

const planText = (text: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(text)) throw usage('--tier: a plan id (letters, digits, . _ -)');
  return text;
};
const copiesText = (copies: CopySpec[]) => (copies.length ? copies.map((c) => `${c.storage_tier} for ${keepText(c.keep)}`).join(' + ') : 'none');
const usd = (n: number) => `$${n.toFixed(2)}`;

export async function policyCommand(argv: string[]): Promise<number | void> {
  if (argv[0] === 'show') return show(argv.slice(1));
  if (argv[0] === 'set') return set(argv.slice(1));
  throw usage('strata policy show [--tier PLAN] | strata policy set --tier PLAN [--preset seed|cost-optimized] [--incremental daily,weekly,monthly|none] [--files daily,weekly,monthly|none] [--dry-run] [--yes]');
}

async function show(argv: string[]): Promise<void> {
  const f = flags(argv, { tier: { type: 'string' } });
  const db = getDb(config().DATABASE_URL);
  const rows = await db
    .select()
    .from(backupRetentionPolicies)
    .where(f.tier === undefined ? undefined : eq(backupRetentionPolicies.tierId, planText(f.tier)))
    .orderBy(asc(backupRetentionPolicies.id));
  if (f.tier !== undefined && rows.length === 0) throw new CliError(`plan ${f.tier} has no retention policy`, EXIT.error, 'not_found');
  const policies = rows.map(describePolicy);
  output(!!f.json).result({ policies }, () =>
    policies
      .map((p) =>
        [
          `${p.tier_id}: ${p.daily_retention_days}d/${p.weekly_retention_weeks}w/${p.monthly_retention_months}m, layout ${p.layout}`,
          ...(['daily', 'weekly', 'monthly'] as const)
            .filter((o) => p.copies[o].length > 0)
            .map((o) => `  ${o.padEnd(8)} ${p.backup_types[o].padEnd(12)}${copiesText(p.copies[o])}${p.files_origins.includes(o) ? ', with files' : ''}`),
        ].join('\n'),
      )
      .join('\n'),
  );
}

async function set(argv: string[]): Promise<number> {
  const f = flags(argv, { tier: { type: 'string' }, preset: { type: 'string' }, incremental: { type: 'string' }, files: { type: 'string' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean' } });
  const plan = planText(required(f.tier, 'tier'));
  if (f.preset === undefined && f.incremental === undefined && f.files === undefined) throw usage('give --preset seed|cost-optimized, --incremental ORIGINS|none, --files ORIGINS|none, or several');
  const res = f.preset === undefined ? null : layoutSchema.safeParse(f.preset);
  if (res && !res.success) throw usage(`--preset: ${res.error.issues[0]?.message ?? 'invalid'}`);
  const origins = f.incremental === undefined ? null : originList(f.incremental, 'incremental');
  const filesOrigins = f.files === undefined ? null : originList(f.files, 'files');
  const dryRun = !!f['dry-run'];
  if (!dryRun && !f.yes) throw usage('a policy change is applied to every new backup of the plan: add --yes to apply, or --dry-run to preview');
  const cfg = config();
  const db = getDb(cfg.DATABASE_URL);
  let change: LayoutChange | undefined;
  let types: BackupTypesChange | undefined;
  let files: FilesOriginsChange | undefined;
  try {
    if (res?.success) {
      const prices = pricesFromConfig(cfg.STRATA_PRICES_JSON);
      change = await changeLayout(db, cfg, { plan, layout: res.data, incrementalOrigins: origins ?? undefined, actor: cliActor(), dryRun, prices });
    } else if (origins) types = await changeBackupTypes(db, { plan, incrementalOrigins: origins, actor: cliActor(), dryRun });
    if (filesOrigins) files = await changeFilesOrigins(db, { plan, filesOrigins, actor: cliActor(), dryRun });
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(err.message, err.code === 'not_found' ? EXIT.error : EXIT.usage, err.code);
    throw err;
  }
  output(!!f.json).result({ ...(change ? { policy_change: change } : {}), ...(types ? { backup_types_change: types } : {}), ...(files ? { files_origins_change: files } : {}) }, () =>
    [change ? describeChange(change) : null, types ? describeTypes(types) : null, files ? describeFiles(files) : null].filter(Boolean).join('\n\n'),
  );
  return EXIT.ok;
}

function describeFiles(c: FilesOriginsChange): string {
  const list = (o: string[]) => (o.length ? o.join(', ') : 'none');
  return [
    c.before.join() === c.after.join()
      ? `Plan ${c.plan}: origins with files unchanged (${list(c.after)}).`
      : `${c.dry_run ? 'Dry run (nothing changed): plan' : 'Plan'} ${c.plan}: origins whose backups include the tenant's files ${list(c.before)}  →  ${list(c.after)}${c.dry_run ? '' : ' (saved, audited)'}`,
    `Applies to backups the scheduler queues from now on for the plan's ${c.tenants} tenant${c.tenants === 1 ? '' : 's'} (needs STRATA_FILES_BUCKET); existing backups keep what they hold.`,
  ].join('\n');
}

function describeTypes(t: BackupTypesChange): string {
  const same = JSON.stringify(t.before) === JSON.stringify(t.after);
  return [
    same
      ? `Plan ${t.plan}: backup types unchanged.`
      : `${t.dry_run ? 'Dry run (nothing changed): plan' : 'Plan'} ${t.plan}: scheduled backup types${t.dry_run ? '' : ' (saved, audited)'}`,
    ...SCHEDULE_TYPES.map((o) => `  ${o.padEnd(8)} ${t.before[o]}${t.before[o] === t.after[o] ? '' : `  →  ${t.after[o]}`}`),
    `Applies to backups the scheduler queues from now on for the plan's ${t.tenants} tenant${t.tenants === 1 ? '' : 's'}; a backup point that is also a full origin's is full. Existing backups keep their type.`,
  ].join('\n');
}

function describeChange(c: LayoutChange): string {
  const head = unchanged(c)
    ? `Plan ${c.plan} already uses the ${c.to} layout with these backup types: nothing to change.`
    : `${c.dry_run ? 'Dry run (nothing changed): plan' : 'Plan'} ${c.plan}: layout ${c.from} → ${c.to}${c.dry_run ? '' : ' (saved, audited)'}`;
  const incremental = [c.backup_types.before, c.backup_types.after].some((t) => Object.values(t).includes('incremental'));
  return [
    head,
    `Schedules (${c.tenants} tenant${c.tenants === 1 ? '' : 's'} on the plan):`,
    ...c.schedules.map((s) => `  ${s.schedule_type.padEnd(8)} ${s.before.join(' + ') || 'none'}  →  ${s.after.join(' + ') || 'none'}`),
    'Backup types:',
    ...SCHEDULE_TYPES.map((o) => `  ${o.padEnd(8)} ${c.backup_types.before[o]}${c.backup_types.before[o] === c.backup_types.after[o] ? '' : `  →  ${c.backup_types.after[o]}`}`),
    `Stores: ${c.stores.before.join(', ') || 'none'}  →  ${c.stores.after.join(', ') || 'none'}`,
    `A month at steady state (${c.tenants} tenants, newest backups ${c.monthly_cost.mean_stored_gb.toFixed(2)} GiB on average` +
      `${incremental ? `, incremental backups at ${c.monthly_cost.daily_change_percent}% of the data changing a day` : ''}): ` +
      `${usd(c.monthly_cost.before_dollars)} → ${usd(c.monthly_cost.after_dollars)} (all S3 Standard: ${usd(c.monthly_cost.all_standard_dollars)})`,
    'New backups are deleted:',
    ...c.new_backups_deleted.map((d) => `  ${d.origin.padEnd(8)} ${d.storage_tier.padEnd(12)} ${d.after}`),
    'Existing copies keep their stores and expiries:',
    ...(c.existing_copies.length
      ? c.existing_copies.map((e) => `  ${e.storage_tier.padEnd(12)} ${e.copies} copies, the last deleted after ${e.last_expires_at ?? 'never (no expiry)'}`)
      : ['  none']),
  ].join('\n');
}
