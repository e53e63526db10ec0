// Each command demands only the configuration it uses, and lists every problem at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from './env.ts';

const DB = { DATABASE_URL: 'postgres://strata@localhost/app' };
const RECIPIENT = `age1${'q'.repeat(58)}`;
const FULL = { ...DB, S3_BACKUP_BUCKET: 'strata-backups', BACKUP_ENCRYPTION_RECIPIENTS: RECIPIENT };

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected a ConfigError');
};

describe('parseConfig', () => {
  it('needs only DATABASE_URL for database commands (migrate, tenant list)', () => {
    const c = parseConfig(DB, ['database']);
    assert.equal(c.DATABASE_URL, DB.DATABASE_URL);
    assert.equal(c.sourceUrl, DB.DATABASE_URL);
    assert.equal(c.S3_BACKUP_BUCKET, undefined);
    assert.equal(c.STRATA_SCHEDULE_WINDOW_MINUTES, 120);
  });

  it('without needs demands what the worker and dashboard need, every missing variable in one message', () => {
    assert.deepEqual(problems(() => parseConfig({})), ['DATABASE_URL is required', 'S3_BACKUP_BUCKET is required', 'BACKUP_ENCRYPTION_RECIPIENTS is required']);
    assert.equal(parseConfig(FULL).BACKUP_ENCRYPTION_RECIPIENTS[0], RECIPIENT);
  });

  it('each need adds its variables; decryption demands the identity file', () => {
    assert.deepEqual(problems(() => parseConfig(DB, ['database', 'stores'])), ['S3_BACKUP_BUCKET is required']);
    assert.deepEqual(problems(() => parseConfig(FULL, ['database', 'stores', 'encryption', 'decryption'])), ['BACKUP_DECRYPTION_IDENTITY_FILE is required']);
    assert.equal(parseConfig({ ...FULL, BACKUP_DECRYPTION_IDENTITY_FILE: '/keys/id' }, ['database', 'decryption']).BACKUP_DECRYPTION_IDENTITY_FILE, '/keys/id');
  });

  it('still validates every variable that is set, whatever the needs, together with the missing ones', () => {
    const found = problems(() => parseConfig({ S3_PART_SIZE_MB: '2', BACKUP_ENCRYPTION_RECIPIENTS: 'not-a-key', B2_BUCKET_NAME: 'b' }, ['database']));
    assert.ok(found.includes('DATABASE_URL is required'), found.join('; '));
    assert.ok(found.some((p) => p.startsWith('S3_PART_SIZE_MB ')), found.join('; '));
    assert.ok(found.some((p) => p.startsWith('BACKUP_ENCRYPTION_RECIPIENTS ')), found.join('; '));
    assert.ok(found.includes('B2_APPLICATION_KEY_ID is required when any B2_ variable is set'), found.join('; '));
    assert.equal(found.filter((p) => p === 'DATABASE_URL is required').length, 1, 'listed once');
  });

  it('keeps the variables added for signing, replay roles and sign-in', () => {
    const c = parseConfig(
      {
        ...DB,
        STRATA_SIGNING_KEY_FILE: '/k.pem',
        STRATA_VERIFY_KEYS: 'abc',
        STRATA_RESTORE_DATABASE_URL: 'postgres://replayer@localhost/app',
        STRATA_ALLOW_SUPERUSER_RESTORE: 'true',
        STRATA_TRUSTED_PROXY_HOPS: '1',
        STRATA_SIGNIN_CONCURRENCY: '2',
        STRATA_AUDIT_SIGNIN_RETENTION_DAYS: '30',
      },
      ['database'],
    );
    assert.deepEqual(
      [c.STRATA_SIGNING_KEY_FILE, c.STRATA_VERIFY_KEYS, c.STRATA_RESTORE_DATABASE_URL, c.STRATA_ALLOW_SUPERUSER_RESTORE, c.STRATA_TRUSTED_PROXY_HOPS, c.STRATA_SIGNIN_CONCURRENCY, c.STRATA_AUDIT_SIGNIN_RETENTION_DAYS],
      ['/k.pem', 'abc', 'postgres://replayer@localhost/app', true, 1, 2, 30],
    );
  });
});
