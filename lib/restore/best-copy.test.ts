// Which copy of a backup point a restore reads (design.md "Restore"): S3 Standard, then B2, then Standard-IA.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseCopy, type CopyChoice } from './best-copy.ts';

const c = (id: string, storageTier: string, status = 'completed', backupLocation: string | null = `loc-${id}`): CopyChoice => ({ id, storageTier, status, backupLocation });

describe('chooseCopy', () => {
  const ia = c('1', 's3_ia');
  const b2 = c('2', 'b2_cold');
  const s3 = c('3', 's3_standard');

  it('S3 Standard while it exists, then B2, then Standard-IA, whichever copy was named', () => {
    assert.equal(chooseCopy(ia, [ia, b2, s3]).id, '3');
    assert.equal(chooseCopy(ia, [ia, b2, { ...s3, status: 'deleted' }]).id, '2');
    assert.equal(chooseCopy(s3, [ia, { ...b2, status: 'failed' }, { ...s3, status: 'deleted' }]).id, '1');
    assert.equal(chooseCopy(b2, [ia, b2, { ...s3, backupLocation: null }]).id, '2', 'a copy without a location cannot be read');
  });

  it('an explicit pick is honoured even when a better copy exists', () => {
    assert.equal(chooseCopy(ia, [ia, b2, s3], { exact: true }).id, '1');
  });

  it('no readable copy: the named one (whose own status the restore then refuses)', () => {
    const gone = { ...s3, status: 'deleted' };
    assert.equal(chooseCopy(gone, [gone, { ...b2, status: 'deleted' }]), gone);
  });
});
