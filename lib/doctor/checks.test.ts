import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { getDb } from '../db/client.ts';
import { parseConfig } from '../env.ts';
import { ensureAgeKeyPair } from '../services/age-keys.ts';
import { ensureSigningKeyPair } from '../services/signing-keys.ts';
import { createStores } from '../storage/registry.ts';
import { startTestStack, type TestStack } from '../testing/stack.ts';
import { filesBucketCheck, runDoctor, signingChecks, type Check } from './checks.ts';

const byName = (checks: Check[], name: string) => {
  const c = checks.find((x) => x.name === name);
  assert.ok(c, `check ${name} missing from ${checks.map((x) => x.name).join(', ')}`);
  return c;
};

describe('strata doctor', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack();
  });
  after(async () => stack?.stop());

  it('passes every check on a complete setup', async () => {
    const checks = await runDoctor({ db: stack.db, config: stack.config, stores: createStores(stack.config, { retry: false }) });
    assert.deepEqual(checks.filter((c) => !c.ok), []);
    assert.ok(checks.some((c) => c.name === 'binary:pg_dump'));
  });

  it('names each missing binary with the package to install', async () => {
    const checks = await runDoctor({ db: stack.db, config: stack.config, stores: createStores(stack.config, { retry: false }), path: '/nonexistent' });
    for (const name of ['binary:pg_dump', 'binary:pg_restore', 'binary:zstd', 'binary:age']) {
      const c = byName(checks, name);
      assert.equal(c.ok, false);
      assert.match(c.detail, /apt-get install -y/);
    }
  });

  it('reports missing privileges of a plain role', async () => {
    await stack.db.execute(sql`create role doctor_plain login password 'plain-pw-123'`);
    const url = new URL(stack.config.DATABASE_URL);
    url.username = 'doctor_plain';
    url.password = 'plain-pw-123';
    const db = getDb(url.toString());
    const config = parseConfig({ ...stack.env, STRATA_RESTORE_DATABASE_URL: url.toString() });
    const checks = await runDoctor({ db, config, stores: createStores(config, { retry: false }) });
    assert.equal(byName(checks, 'privilege:read-all-rows').ok, false);
    assert.match(byName(checks, 'privilege:read-all-rows').detail, /BYPASSRLS/);
    assert.equal(byName(checks, 'restore-role:createdb').ok, false);
    assert.match(byName(checks, 'restore-role:createdb').detail, /ALTER ROLE doctor_plain CREATEDB/);
    assert.equal(byName(checks, 'restore-role:not-superuser').ok, true);
  });

  it('refuses a superuser replay role and one that owns Strata`s tables, saying why', async () => {
    // STRATA_RESTORE_DATABASE_URL unset: DATABASE_URL's role replays — the stack's superuser, owner of users and api_tokens.
    const { STRATA_RESTORE_DATABASE_URL: _, ...withoutRestoreUrl } = stack.env;
    const config = parseConfig(withoutRestoreUrl);
    const checks = await runDoctor({ db: stack.db, config, stores: createStores(config, { retry: false }) });
    const su = byName(checks, 'restore-role:not-superuser');
    assert.equal(su.ok, false);
    assert.match(su.detail, /is a superuser.*forged dump.*STRATA_RESTORE_DATABASE_URL.*STRATA_ALLOW_SUPERUSER_RESTORE=1/);
    assert.equal(byName(checks, 'restore-role:no-strata-tables').ok, false);
    assert.match(byName(checks, 'restore-role:no-strata-tables').detail, /users, api_tokens/);
    const allowed = parseConfig({ ...withoutRestoreUrl, STRATA_ALLOW_SUPERUSER_RESTORE: '1' });
    const again = await runDoctor({ db: stack.db, config: allowed, stores: createStores(allowed, { retry: false }) });
    assert.equal(byName(again, 'restore-role:not-superuser').ok, true);
    assert.match(byName(again, 'restore-role:not-superuser').detail, /only because STRATA_ALLOW_SUPERUSER_RESTORE=1/);
  });

  it('checks that the replay role is a member of every tenant owner', async () => {
    await stack.db.execute(sql`create role doctor_tenant_owner nologin`);
    await stack.db.execute(sql`create schema doctor_tenant authorization doctor_tenant_owner`);
    await stack.db.execute(sql`insert into tenants (id, name, schema_name) values ('doctor', 'Doctor', 'doctor_tenant')`);
    try {
      const checks = await runDoctor({ db: stack.db, config: stack.config, stores: createStores(stack.config, { retry: false }) });
      const owners = byName(checks, 'restore-role:tenant-owners');
      assert.equal(owners.ok, false);
      assert.match(owners.detail, new RegExp(`GRANT doctor_tenant_owner TO ${stack.restoreRole}`));
    } finally {
      await stack.db.execute(sql`delete from tenants where id = 'doctor'`);
      await stack.db.execute(sql`drop schema doctor_tenant`);
      await stack.db.execute(sql`drop role doctor_tenant_owner`);
    }
  });

  it('reports an unreachable bucket and an identity file without the recipients key', async () => {
    const other = ensureAgeKeyPair(path.join(stack.dir, 'other-age'), 'other');
    const config = parseConfig({ ...stack.env, S3_BACKUP_BUCKET: 'no-such-bucket', BACKUP_DECRYPTION_IDENTITY_FILE: other.identityFile });
    const checks = await runDoctor({ db: stack.db, config, stores: createStores(config, { retry: false }) });
    assert.equal(byName(checks, 'bucket:s3').ok, false);
    assert.equal(byName(checks, 'bucket:b2').ok, true);
    assert.equal(byName(checks, 'keys:current-recipients').ok, false);
    assert.doesNotMatch(JSON.stringify(checks), new RegExp(stack.env.B2_APPLICATION_KEY!));
  });

  it('reports tenant files as off (not a failure), reachable, or not reachable naming the bucket', async () => {
    const on = byName(await runDoctor({ db: stack.db, config: stack.config, stores: createStores(stack.config, { retry: false }) }), 'bucket:files');
    assert.equal(on.ok, true, on.detail);
    assert.match(on.detail, new RegExp(`^tenant files: s3://${stack.env.STRATA_FILES_BUCKET}/ at http://\\S+ reachable \\(prefix tenants/\\{tenant_id\\}/\\)$`));

    const { STRATA_FILES_BUCKET: _, ...withoutFiles } = stack.env;
    const off = await filesBucketCheck(parseConfig(withoutFiles));
    assert.deepEqual(off, { name: 'bucket:files', ok: true, detail: 'tenant files: off — STRATA_FILES_BUCKET is not set' });

    const missing = await filesBucketCheck(parseConfig({ ...stack.env, STRATA_FILES_BUCKET: 'no-such-files-bucket' }));
    assert.equal(missing.ok, false);
    assert.match(missing.detail, /^tenant files: s3:\/\/no-such-files-bucket\/ .*not reachable: the bucket does not exist/);

    const secret = 'files-secret-key-that-must-not-show';
    const denied = await filesBucketCheck(parseConfig({ ...stack.env, STRATA_FILES_BUCKET: 'saas-files', STRATA_FILES_ACCESS_KEY_ID: 'nobody', STRATA_FILES_SECRET_ACCESS_KEY: secret }));
    assert.equal(denied.ok, false, denied.detail);
    assert.match(denied.detail, /^tenant files: s3:\/\/saas-files\/ at \S+ not reachable: access denied \(HTTP 403\)/);
    assert.doesNotMatch(denied.detail, new RegExp(secret));
  });
});

describe('doctor: manifest signing keys (issue 13)', () => {
  it('reports a missing or world-readable signing key and verify keys that do not include it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-doctor-signing-'));
    try {
      const a = ensureSigningKeyPair(dir, 'a');
      const b = ensureSigningKeyPair(dir, 'b');
      const good = signingChecks({ STRATA_SIGNING_KEY_FILE: a.keyFile, STRATA_VERIFY_KEYS: `${b.publicKeyBase64},${a.publicKeyFile}` });
      assert.deepEqual(good.filter((c) => !c.ok), []);
      const foreign = signingChecks({ STRATA_SIGNING_KEY_FILE: a.keyFile, STRATA_VERIFY_KEYS: b.publicKeyBase64 });
      assert.match(foreign.find((c) => c.name === 'signing:verify-keys')!.detail, /does not include the signing key .*would be refused/);
      const none = signingChecks({});
      assert.match(none.find((c) => c.name === 'signing:key')!.detail, /STRATA_SIGNING_KEY_FILE is not set/);
      assert.equal(none.find((c) => c.name === 'signing:verify-keys')!.ok, false);
      fs.chmodSync(a.keyFile, 0o644);
      assert.match(signingChecks({ STRATA_SIGNING_KEY_FILE: a.keyFile }).find((c) => c.name === 'signing:key')!.detail, /readable by others/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
