// The README's disaster-recovery runbook, followed step by step with standard tools only:
// rclone (S3 and B2), age, zstd, pg_restore and psql. Strata's own code makes the backup and nothing else.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createBackupGroup } from '../backup/create.ts';
import { runBackupGroup } from '../backup/run-backup.ts';
import { createStores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from './stack.ts';

const SCHEMA = 'Runbook "Hospital" ü';
const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** Runs a program (argument array, no shell) without blocking: the B2 server lives in this process. */
function tool(cmd: string, args: string[], env: Record<string, string> = {}, input?: Buffer): Promise<Buffer> {
  // rclone's S3 backend refuses a custom CA bundle with its plain-HTTP transport; none is needed on loopback.
  const { AWS_CA_BUNDLE: _caBundle, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...base, ...env }, timeout: 60_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}): ${err}`)),
    );
    child.stdin.end(input);
  });
}

const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('disaster-recovery runbook (standard tools only)', () => {
  let stack: TestStack;
  let pgEnv: Record<string, string>;
  let rcloneEnv: Record<string, string>;
  let fingerprint: () => Promise<string>;

  before(async () => {
    stack = await startTestStack();
    const u = new URL(stack.config.DATABASE_URL);
    pgEnv = { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: decodeURIComponent(u.pathname.slice(1)) };
    rcloneEnv = {
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_S3_TYPE: 's3',
      RCLONE_CONFIG_S3_PROVIDER: 'Other',
      RCLONE_CONFIG_S3_ENDPOINT: stack.env.S3_ENDPOINT!,
      RCLONE_CONFIG_S3_ACCESS_KEY_ID: stack.env.AWS_ACCESS_KEY_ID!,
      RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: stack.env.AWS_SECRET_ACCESS_KEY!,
      RCLONE_CONFIG_S3_FORCE_PATH_STYLE: 'true',
      RCLONE_CONFIG_B2_TYPE: 'b2',
      RCLONE_CONFIG_B2_ACCOUNT: stack.env.B2_APPLICATION_KEY_ID!,
      RCLONE_CONFIG_B2_KEY: stack.env.B2_APPLICATION_KEY!,
      RCLONE_CONFIG_B2_ENDPOINT: stack.env.B2_AUTH_URL!,
    };
    await stack.db.execute(sql.raw(`
      create schema ${q(SCHEMA)};
      create table ${q(SCHEMA)}.patients (id bigint generated always as identity primary key, name text not null, born date, notes text);
      create table ${q(SCHEMA)}.appointments (id serial primary key, patient_id bigint not null references ${q(SCHEMA)}.patients(id), at timestamptz not null);
      insert into ${q(SCHEMA)}.patients (name, born, notes) select 'patient ' || g, date '1950-01-01' + g, case when g % 3 = 0 then E'line\\nbreak' end from generate_series(1, 5000) g;
      insert into ${q(SCHEMA)}.appointments (patient_id, at) select 1 + g % 5000, timestamptz '2026-01-01' + g * interval '1 hour' from generate_series(1, 8000) g;
      insert into tenants (id, name, schema_name) values ('runbook-hospital', 'Runbook Hospital', '${SCHEMA.replace(/'/g, "''")}');
      insert into tenant_subscriptions (tenant_id, tier_id) values ('runbook-hospital', 'premium');`));
    fingerprint = async () => {
      const res = await stack.db.execute<{ t: string; h: string }>(sql.raw(`
        select 'patients' t, md5(string_agg(p::text, ',' order by p.id)) h from ${q(SCHEMA)}.patients p
        union all select 'appointments', md5(string_agg(a::text, ',' order by a.id)) from ${q(SCHEMA)}.appointments a`));
      return JSON.stringify(res.rows);
    };
  });
  after(async () => stack?.stop());

  for (const storage of ['s3_standard', 'b2_cold'] as const) {
    it(`restores a tenant from ${storage} with rclone, age, zstd and pg_restore`, async () => {
      const before = await fingerprint();
      const [row] = await createBackupGroup(stack.db, { tenantId: 'runbook-hospital', storageTiers: [storage], origin: 'manual', requestedBy: 'test' });
      await runBackupGroup({ db: stack.db, config: stack.config, stores: createStores(stack.config) }, row!.dumpGroup);
      const work = fs.mkdtempSync(path.join(stack.dir, 'runbook-'));
      const remote = storage === 'b2_cold' ? `b2:${stack.env.B2_BUCKET_NAME}` : `s3:${stack.env.S3_BACKUP_BUCKET}`;

      // Step 1: find the tenant's newest manifest (keys sort by YYYY/MM; take the newest of the month).
      const listing = JSON.parse((await tool('rclone', ['lsjson', '--recursive', '--files-only', `${remote}/backups/runbook-hospital/`], rcloneEnv)).toString()) as { Path: string; ModTime: string }[];
      const manifests = listing.filter((f) => f.Path.endsWith('/manifest.json')).sort((a, b) => a.ModTime.localeCompare(b.ModTime));
      const newest = manifests.at(-1)!;
      assert.ok(newest, 'a manifest is listed');
      const manifestFile = path.join(work, 'manifest.json');
      fs.writeFileSync(manifestFile, await tool('rclone', ['cat', `${remote}/backups/runbook-hospital/${newest.Path}`], rcloneEnv));

      // Step 1b: check its signature with openssl before trusting any of it (issue 13).
      const sigFile = `${manifestFile}.sig`;
      fs.writeFileSync(sigFile, await tool('rclone', ['cat', `${remote}/backups/runbook-hospital/${newest.Path}.sig`], rcloneEnv));
      const pubPem = path.join(work, 'pub.pem');
      const der = await tool('base64', ['-d'], {}, Buffer.from(`${stack.env.STRATA_VERIFY_KEYS}\n`));
      await tool('openssl', ['pkey', '-pubin', '-inform', 'DER', '-out', pubPem], {}, der);
      const verified = await tool('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubPem, '-rawin', '-in', manifestFile, '-sigfile', sigFile]);
      assert.match(verified.toString(), /Signature Verified Successfully/);
      // The same public key, derived from the signing key as the README says.
      const fromPrivate = await tool('openssl', ['pkey', '-in', stack.env.STRATA_SIGNING_KEY_FILE!, '-pubout']);
      assert.equal(fromPrivate.toString(), fs.readFileSync(pubPem, 'utf8'));
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      assert.equal(manifest.backup.id, row!.id);
      assert.equal(manifest.tenant.schema_name, SCHEMA);

      // Step 2: download the dump object and check it against the manifest.
      const dumpKey = `backups/runbook-hospital/${newest.Path.replace(/manifest\.json$/, 'dump.zst.age')}`;
      const encrypted = path.join(work, 'dump.zst.age');
      fs.writeFileSync(encrypted, await tool('rclone', ['cat', `${remote}/${dumpKey}`], rcloneEnv));
      assert.equal(sha256File(encrypted), manifest.backup.sha256_stored);
      assert.equal(fs.statSync(encrypted).size, manifest.backup.backup_size_bytes);

      // Step 3: decrypt and decompress; check the dump against the manifest.
      const dump = path.join(work, 'tenant.dump');
      const compressed = await tool('age', ['-d', '-i', stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!, encrypted]);
      fs.writeFileSync(dump, await tool('zstd', ['-d', '-c'], {}, compressed));
      assert.equal(sha256File(dump), manifest.backup.sha256_dump);
      await tool('pg_restore', ['--list', dump]);

      // Step 4: the tenant is lost; move what is left aside and replay the dump in one transaction.
      await stack.db.execute(sql.raw(`drop schema ${q(SCHEMA)} cascade`));
      await tool('pg_restore', ['--single-transaction', '--exit-on-error', '-d', pgEnv.PGDATABASE!, dump], pgEnv);
      assert.equal(await fingerprint(), before);
    });
  }

  /** The README's chunk loop for incremental backups, exactly as printed there, with this test's remote and identity. */
  function readmeChunkLoop(remote: string, identityFile: string): string {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const m = /^jq -r '\.chunks\[\][^\n]*\n(?:.*\n)*?done > tenant\.dump$/m.exec(readme);
    assert.ok(m, 'the README prints the chunk loop');
    assert.ok(m[0].includes('s3:BUCKET/') && m[0].includes('identity.txt'));
    return m[0].replaceAll('s3:BUCKET/', `${remote}/`).replaceAll('identity.txt', identityFile);
  }

  for (const storage of ['s3_standard', 'b2_cold'] as const) {
    it(`rebuilds an incremental backup from ${storage} with the README's loop: rclone, jq, age, zstd and pg_restore`, async () => {
      const stores = createStores(stack.config);
      const backup = async () => {
        const [row] = await createBackupGroup(stack.db, { tenantId: 'runbook-hospital', storageTiers: [storage], origin: 'manual', requestedBy: 'test', backupType: 'incremental' });
        await runBackupGroup({ db: stack.db, config: stack.config, stores }, row!.dumpGroup);
        return row!;
      };
      await backup(); // the chunks a later backup reuses
      await stack.db.execute(sql.raw(`update ${q(SCHEMA)}.patients set notes = 'changed' where id % 50 = 0`));
      const before = await fingerprint();
      const row = await backup();
      const work = fs.mkdtempSync(path.join(stack.dir, 'runbook-inc-'));
      const remote = storage === 'b2_cold' ? `b2:${stack.env.B2_BUCKET_NAME}` : `s3:${stack.env.S3_BACKUP_BUCKET}`;
      const [done] = (await stack.db.execute<{ backup_location: string; sha256_dump: string }>(sql`select backup_location, sha256_dump from backup_jobs where id = ${row.id}::uuid`)).rows;
      const manifestKey = done!.backup_location.replace(/^[a-z0-9]+:\/\/[^/]+\//, '');
      const manifestFile = path.join(work, 'manifest.json');
      fs.writeFileSync(manifestFile, await tool('rclone', ['cat', `${remote}/${manifestKey}`], rcloneEnv));
      const sigFile = `${manifestFile}.sig`;
      fs.writeFileSync(sigFile, await tool('rclone', ['cat', `${remote}/${manifestKey}.sig`], rcloneEnv));
      const pubPem = path.join(work, 'pub.pem');
      await tool('openssl', ['pkey', '-in', stack.env.STRATA_SIGNING_KEY_FILE!, '-pubout', '-out', pubPem]);
      assert.match((await tool('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pubPem, '-rawin', '-in', manifestFile, '-sigfile', sigFile])).toString(), /Signature Verified Successfully/);
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      assert.equal(manifest.backup.backup_type, 'incremental');
      assert.ok(manifest.chunks.length >= 1);

      await tool('bash', ['-e', '-o', 'pipefail', '-c', `cd ${JSON.stringify(work)}\n${readmeChunkLoop(remote, stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!)}`], rcloneEnv);
      const dump = path.join(work, 'tenant.dump');
      assert.equal(sha256File(dump), manifest.backup.sha256_dump);
      assert.equal(sha256File(dump), done!.sha256_dump);
      await tool('pg_restore', ['--list', dump]);
      await stack.db.execute(sql.raw(`drop schema ${q(SCHEMA)} cascade`));
      await tool('pg_restore', ['--single-transaction', '--exit-on-error', '-d', pgEnv.PGDATABASE!, dump], pgEnv);
      assert.equal(await fingerprint(), before);

      // The loop refuses an altered chunk.
      const first = manifest.chunks[0] as { key: string };
      const store = stores.forTier(storage);
      const parts: Buffer[] = [];
      for await (const b of await store.get(first.key)) parts.push(Buffer.from(b as Uint8Array));
      const original = Buffer.concat(parts);
      await store.put(first.key, Buffer.concat([original, Buffer.from('x')]));
      try {
        await assert.rejects(
          tool('bash', ['-e', '-o', 'pipefail', '-c', `cd ${JSON.stringify(work)}\n${readmeChunkLoop(remote, stack.config.BACKUP_DECRYPTION_IDENTITY_FILE!)}`], rcloneEnv),
          /is corrupt/,
        );
      } finally {
        await store.put(first.key, original);
      }
    });
  }
});
