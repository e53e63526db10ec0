// What a failed sign-in puts in the audit log: an email only when it is one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signInSubject } from './sign-in-audit.ts';

describe('signInSubject', () => {
  it('keeps a valid email, normalized', () => {
    assert.equal(signInSubject('  Ops@Example.COM ', 's'.repeat(32)), 'ops@example.com');
  });
  it('hashes anything else, keyed: stable per secret, never the value', () => {
    const secret = 'x'.repeat(32);
    for (const typed of ['hunter2-correct-horse', 'admin', 'a@b', '<script>alert(1)</script>', 'ops@example.com password']) {
      const subject = signInSubject(typed, secret);
      assert.match(subject, /^hash:[0-9a-f]{32}$/);
      assert.ok(!subject.includes(typed));
      assert.equal(signInSubject(typed, secret), subject);
      assert.notEqual(signInSubject(typed, 'y'.repeat(32)), subject);
    }
  });
  it('an empty field stays empty', () => {
    assert.equal(signInSubject('', 'x'.repeat(32)), '');
  });
});
