// `strata list --tenant ID` and `strata show --backup ID`
import { getDb } from '../../lib/db/client.ts';
import { backupById, backupsAfter, decodeCursor } from '../../lib/db/queries/backups.ts';
import { tenantIdSchema, uuidSchema } from '../../lib/domain.ts';
import { backupJson, type BackupJson } from '../../lib/backup/serialize.ts';
import { CliError, config, flags, output, required, usage, valid } from '../cli-kit.ts';

const human = (b: BackupJson) =>
  [
    b.id,
    b.status.padEnd(9),
    b.origin.padEnd(7),
    b.storage_tier.padEnd(11),
    (b.started_at ?? '-').padEnd(20),
    b.backup_size_bytes === null ? '-' : `${(b.backup_size_bytes / 1048576).toFixed(1)} MiB`,
    b.legal_hold ? 'HOLD' : '',
    b.error_message ? `error: ${b.error_message}` : '',
  ]
    .filter(Boolean)
    .join('  ');

export async function listCommand(argv: string[]): Promise<void> {
  const f = flags(argv, { tenant: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } });
  const tenantId = valid(tenantIdSchema, required(f.tenant, 'tenant'), 'tenant');
  const limit = f.limit === undefined ? 100 : Number(f.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usage('--limit must be an integer from 1 to 1000');
  const cursor = f.cursor === undefined ? null : decodeCursor(f.cursor);
  if (f.cursor !== undefined && !cursor) throw usage('--cursor is not a cursor from an earlier page');
  const cfg = config(['database']);
  const page = await backupsAfter(getDb(cfg.DATABASE_URL), tenantId, limit, cursor);
  const backups = page.rows.map(backupJson);
  output(!!f.json).result({ backups, next_cursor: page.nextCursor }, () =>
    backups.length === 0
      ? `No backups of tenant ${tenantId}.`
      : `${backups.map(human).join('\n')}${page.nextCursor ? `\n… more: --cursor ${page.nextCursor}` : ''}`,
  );
}

export async function showCommand(argv: string[]): Promise<void> {
  const f = flags(argv, { backup: { type: 'string' } });
  const id = valid(uuidSchema, required(f.backup, 'backup'), 'backup');
  const cfg = config(['database']);
  const row = await backupById(getDb(cfg.DATABASE_URL), id);
  if (!row) throw new CliError(`no backup with id ${id}`, 1, 'not_found');
  const job = backupJson(row);
  output(!!f.json).result({ job }, () => Object.entries(job).map(([k, v]) => `${k.padEnd(18)} ${v ?? '-'}`).join('\n'));
}
