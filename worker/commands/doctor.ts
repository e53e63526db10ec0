import { getDb } from '../../lib/db/client.ts';
import { runDoctor } from '../../lib/doctor/checks.ts';
import { createStores } from '../../lib/storage/registry.ts';
import { config, EXIT, flags, output } from '../cli-kit.ts';

export async function doctorCommand(argv: string[]): Promise<number> {
  const f = flags(argv, {});
  const cfg = config();
  const checks = await runDoctor({ db: getDb(cfg.DATABASE_URL), config: cfg, stores: createStores(cfg, { retry: false }) });
  output(!!f.json).result({ checks }, () =>
    checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(32)} ${c.detail}`).join('\n'),
  );
  return checks.every((c) => c.ok) ? EXIT.ok : EXIT.error;
}
