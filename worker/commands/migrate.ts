import { getDb } from '../../lib/db/client.ts';
import { runMigrations } from '../../lib/db/migrate.ts';
import { config, flags, output } from '../cli-kit.ts';

export async function migrateCommand(argv: string[]): Promise<void> {
  const f = flags(argv, {});
  const out = output(!!f.json);
  const result = await runMigrations(getDb(config(['database']).DATABASE_URL));
  out.result({ migrated: true, platform_tables_created: result.platformTablesCreated }, () =>
    result.platformTablesCreated.length
      ? `Migrated. Created platform tables: ${result.platformTablesCreated.join(', ')}`
      : 'Migrated. Platform tables already existed and were left untouched.',
  );
}
