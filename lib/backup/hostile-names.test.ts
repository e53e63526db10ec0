// Schema names are data, not code: quotes, `;`, `$(…)`, backticks, spaces, non-ASCII and pattern
// characters each dump exactly their own schema — never a neighbour a pattern would match, never a shell.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { backupJobs } from '../db/schema.ts';
import { TENANT_OWNER_ROLE } from '../services/replay-role.ts';
import { createStores, type Stores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { createDemoTenant, DEMO_TABLES } from '../testing/tenant-data.ts';
import { createBackupGroup } from './create.ts';
import { parseObjectKey } from './manifest.ts';
import { runBackupGroup } from './run-backup.ts';
import { decryptDump, download, restoreList, tocEntries } from './test-support.ts';

const marker = `/tmp/strata-pwned-${randomBytes(4).toString('hex')}`;

const HOSTILE = [
  { id: 'quote', schema: 'we"ird\'s' },
  { id: 'semicolon', schema: 'x; drop schema public cascade; --' },
  { id: 'subshell', schema: `$(touch ${marker})` },
  { id: 'backtick', schema: `\`touch ${marker}\`` },
  { id: 'spaces', schema: 'Dr Müller  Praxis' },
  { id: 'unicode', schema: 'клиника_東京_🦷' },
  // Pattern characters next to the tenants they would match as a pattern.
  { id: 'star', schema: 'a*' },
  { id: 'ab', schema: 'ab' },
  { id: 'question', schema: 'a?' },
  { id: 'dot', schema: 'a.b' },
  { id: 'upper', schema: 'AB' },
];

describe('hostile schema names', () => {
  let stack: TestStack;
  let stores: Stores;
  before(async () => {
    stack = await startTestStack();
    stores = createStores(stack.config);
    for (const t of HOSTILE) {
      await createDemoTenant(stack.db, { id: t.id, name: `Tenant ${t.schema}`, schemaName: t.schema, plan: 'basic', patients: 20 });
    }
  });
  after(async () => {
    await stack?.stop();
    fs.rmSync(marker, { force: true });
  });

  for (const t of HOSTILE) {
    it(`dumps only ${JSON.stringify(t.schema)}`, async () => {
      const [row] = await createBackupGroup(stack.db, { tenantId: t.id, storageTiers: ['s3_standard'], origin: 'manual', requestedBy: 'test' });
      await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
      const [done] = await stack.db.select().from(backupJobs).where(eq(backupJobs.id, row!.id));
      assert.equal(done!.status, 'completed', done!.errorMessage ?? '');
      assert.equal(fs.existsSync(marker), false, 'no shell ever ran the schema name');

      const key = done!.backupLocation!.replace(`s3://${stack.config.S3_BACKUP_BUCKET}/`, '');
      assert.equal(parseObjectKey(key)?.tenantId, t.id);
      const dump = decryptDump(await download(stores.forTier('s3_standard'), key), stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!);
      const toc = tocEntries(restoreList(dump));
      // One SCHEMA entry (its own), and each table exactly once: no other tenant's copy came along.
      const schemas = toc.filter((l) => / SCHEMA - /.test(l));
      assert.equal(schemas.length, 1, schemas.join('\n'));
      assert.ok(schemas[0]!.includes(` SCHEMA - ${t.schema} `), schemas[0]);
      for (const table of DEMO_TABLES) {
        const entries = toc.filter((l) => l.includes(`TABLE `) && !l.includes('TABLE DATA') && l.endsWith(` ${table} ${TENANT_OWNER_ROLE}`));
        assert.equal(entries.length, 1, `${table}: ${entries.join('\n')}`);
        assert.ok(entries[0]!.includes(` TABLE ${t.schema} ${table} `), entries[0]);
      }
      for (const other of HOSTILE.filter((o) => o.schema !== t.schema)) {
        assert.ok(!toc.some((l) => l.includes(` ${other.schema} patients `)), `${other.schema} leaked into ${t.schema}`);
      }
    });
  }
});
