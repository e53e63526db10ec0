import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from './redact.ts';

describe('redactSecrets', () => {
  const url = 'postgresql://strata:p%40ss%3Aw0rd@db.internal:5432/saas';
  const config = { DATABASE_URL: url, sourceUrl: 'postgres://reader:r3plica-secret@replica:5432/saas', B2_APPLICATION_KEY: 'K005b2secretkey' };

  it('removes URLs, passwords (as written and decoded) and keys', () => {
    const text = `connect ${url} failed; password p@ss:w0rd or p%40ss%3Aw0rd; replica r3plica-secret; b2 K005b2secretkey`;
    const out = redactSecrets(text, config);
    for (const secret of [url, 'p@ss:w0rd', 'p%40ss%3Aw0rd', 'r3plica-secret', 'K005b2secretkey']) assert.ok(!out.includes(secret), secret);
    assert.match(out, /^connect \*\*redacted\*\* failed/);
  });

  it('masks the password of a URL it was never told about', () => {
    assert.equal(redactSecrets('try postgres://bob:hunter2@other/db now', config), 'try postgres://bob:**redacted**@other/db now');
  });

  it('leaves ordinary text alone', () => {
    assert.equal(redactSecrets('pg_dump: error: no matching schemas were found', config), 'pg_dump: error: no matching schemas were found');
  });
});
