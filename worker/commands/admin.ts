// `strata prune`, `catalog rebuild`, `tenant remove`, `user add`, `worker`.
import { audit } from '../../lib/audit.ts';
import { createUser, emailSchema, passwordSchema, roleSchema, UserExistsError } from '../../lib/auth/users.ts';
import { verifyKeysOf } from '../../lib/backup/signing.ts';
import { rebuildCatalog } from '../../lib/catalog/rebuild.ts';
import { getDb } from '../../lib/db/client.ts';
import { tenantIdSchema } from '../../lib/domain.ts';
import { removeTenant } from '../../lib/prune/remove-tenant.ts';
import { runPrune } from '../../lib/prune/run-prune.ts';
import { PurgeRefusedError } from '../../lib/retention/decisions.ts';
import { createStores } from '../../lib/storage/registry.ts';
import { CliError, cliActor, config, EXIT, flags, output, required, usage, valid } from '../cli-kit.ts';

export async function pruneCommand(argv: string[]): Promise<number> {
  const f = flags(argv, { 'dry-run': { type: 'boolean' } });
  const cfg = config();
  const db = getDb(cfg.DATABASE_URL);
  const dryRun = !!f['dry-run'];
  const result = await runPrune({ db, config: cfg, stores: createStores(cfg) }, { dryRun });
  const deletes = result.decisions.filter((d) => d.action === 'delete');
  if (!dryRun) await audit(db, { actor: cliActor(), action: 'prune.run', target: null, details: { deleted: deletes.length, failed: result.failed.length } });
  output(!!f.json).result({ decisions: result.decisions, failed: result.failed }, () =>
    [
      ...result.decisions.map((d) => `${d.action.padEnd(6)} ${d.backup_id}  ${d.reason}`),
      `${dryRun ? 'Would delete' : 'Deleted'} ${deletes.length - result.failed.length} backup(s); kept ${result.decisions.length - deletes.length}.`,
      ...result.failed.map((x) => `FAILED ${x.backup_id}: ${x.error} (the next prune retries it)`),
    ].join('\n'),
  );
  return result.failed.length ? EXIT.error : EXIT.ok;
}

export async function catalogCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'rebuild') throw usage('usage: strata catalog rebuild [--trust-unsigned]');
  // issue 13: only signed manifests are taken in; --trust-unsigned also takes unsigned ones (pre-signing backups).
  const f = flags(rest, { 'trust-unsigned': { type: 'boolean' } });
  const cfg = config();
  const db = getDb(cfg.DATABASE_URL);
  const out = output(!!f.json);
  const trustUnsigned = !!f['trust-unsigned'];
  const warn = (m: string) => (m.startsWith('WARNING') ? process.stderr.write(`${m}\n`) : out.info(m));
  const result = await rebuildCatalog(db, createStores(cfg), { verifyKeys: verifyKeysOf(cfg), trustUnsigned, log: (m, fields) => warn(fields ? `${m} ${JSON.stringify(fields)}` : m) });
  await audit(db, { actor: cliActor(), action: 'catalog.rebuild', target: null, details: { ...result, trust_unsigned: trustUnsigned } });
  out.result(result, () =>
    [
      `Catalog rebuilt from the manifests: ${result.added} backup(s) added, ${result.already} already known, ${result.tenants_added} tenant(s) added.`,
      ...(result.trusted_unsigned ? [`WARNING: ${result.trusted_unsigned} UNSIGNED manifest(s) taken in (--trust-unsigned), recorded as unsigned.`] : []),
      ...result.rejected.map((r) => `REJECTED ${r.location}: ${r.reason}`),
    ].join('\n'),
  );
}

export async function tenantRemoveCommand(argv: string[]): Promise<void> {
  const f = flags(argv, { id: { type: 'string' }, 'purge-backups': { type: 'boolean' }, yes: { type: 'boolean' } });
  const id = valid(tenantIdSchema, required(f.id, 'id'), 'id');
  if (!f.yes) throw usage(`removing a tenant stops its backups${f['purge-backups'] ? ' and deletes all of them now' : ''}: add --yes to confirm`);
  const cfg = config();
  const db = getDb(cfg.DATABASE_URL);
  const purge = !!f['purge-backups'];
  let result;
  try {
    result = await removeTenant({ db, stores: createStores(cfg) }, id, { purgeBackups: purge });
  } catch (err) {
    if (err instanceof PurgeRefusedError) throw new CliError(err.message, EXIT.conflict, 'conflict');
    throw err;
  }
  await audit(db, { actor: cliActor(), action: purge ? 'tenant.remove_purge' : 'tenant.remove', target: id, details: { deleted: result.decisions.length, failed: result.failed.length } });
  output(!!f.json).result(
    { tenant: { id, removed: true }, decisions: result.decisions, failed: result.failed },
    purge
      ? `Removed tenant ${id} and deleted ${result.decisions.length - result.failed.length} backup(s)${result.failed.length ? `; ${result.failed.length} failed and will be retried by prune` : ''}.`
      : `Removed tenant ${id}. Its backups expire by policy (no newest-backup floor); --purge-backups deletes them now.`,
  );
  if (result.failed.length) throw new CliError(`${result.failed.length} backup(s) could not be deleted yet`, EXIT.error);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function userCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'add') throw usage('usage: strata user add --email E --role viewer|operator|admin (password on stdin)');
  const f = flags(rest, { email: { type: 'string' }, role: { type: 'string' } });
  const email = valid(emailSchema, required(f.email, 'email'), 'email');
  const role = valid(roleSchema, required(f.role, 'role'), 'role');
  const password = await readStdin();
  const ok = passwordSchema.safeParse(password);
  if (!ok.success) throw usage(`password (stdin): ${ok.error.issues[0]?.message}`);
  const cfg = config(['database']);
  const db = getDb(cfg.DATABASE_URL);
  try {
    const user = await createUser(db, { email, role, password });
    await audit(db, { actor: cliActor(), action: 'user.create', target: user.email, details: { role } });
    output(!!f.json).result({ user: { id: user.id, email: user.email, role: user.role } }, `Created ${role} ${user.email}.`);
  } catch (err) {
    if (err instanceof UserExistsError) throw new CliError(err.message, EXIT.conflict, 'conflict');
    throw err;
  }
}

export async function workerCommand(argv: string[]): Promise<number> {
  flags(argv, {});
  // A bad environment is reported here like for every command; the worker itself runs as `npm run worker` does.
  config();
  const { runWorkerInForeground } = await import('../launch.ts');
  return runWorkerInForeground();
}
