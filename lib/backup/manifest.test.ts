import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupKey, buildManifest, manifestBytes, parseManifest, parseObjectKey } from './manifest.ts';
import { isoUtc } from '../iso.ts';
import { backupJson } from './serialize.ts';

const id = '3f1c1e0e-9a4b-4c1d-8e2f-0123456789ab';

describe('object layout', () => {
  it('uses started_at in UTC for YYYY/MM', () => {
    assert.equal(backupKey('acme', new Date('2026-01-31T23:30:00-05:00'), id), `backups/acme/2026/02/${id}/`);
    assert.equal(backupKey('acme', new Date('2026-12-31T23:59:59Z'), id), `backups/acme/2026/12/${id}/`);
    assert.throws(() => backupKey('../x', new Date(), id), /tenant id/);
    assert.throws(() => backupKey('acme', new Date(), 'not-a-uuid'), /UUID/);
  });

  it('parses keys back', () => {
    assert.deepEqual(parseObjectKey(`backups/acme/2026/02/${id}/dump.zst.age`), { tenantId: 'acme', yyyy: '2026', mm: '02', uuid: id, object: 'dump.zst.age' });
    assert.equal(parseObjectKey(`backups/acme/2026/02/${id}/x/dump.zst.age`), null);
  });
});

describe('a backup as JSON and manifest v1', () => {
  const row = {
    id, tenantId: 'acme', tierId: 'premium', backupType: 'full', storageTier: 'b2_cold', origin: 'monthly', status: 'completed',
    backupSizeBytes: 1234, dumpSizeBytes: 5678, addedBytes: 1234, backupLocation: `b2://cold/backups/acme/2026/11/${id}/dump.zst.age`,
    sha256Stored: 'a'.repeat(64), sha256Dump: 'b'.repeat(64), startedAt: new Date('2026-11-26T02:00:00Z'),
    completedAt: new Date('2026-11-26T02:03:07Z'), expiresAt: new Date('2027-11-26T02:03:07Z'), legalHold: false, errorMessage: null, requestedBy: 'system',
  };

  it('serializes snake_case, whole-second UTC times with Z, sizes as numbers, id = uuid', () => {
    const json = backupJson(row);
    assert.deepEqual(Object.keys(json), [
      'id', 'tenant_id', 'tier_id', 'backup_type', 'storage_tier', 'origin', 'status', 'backup_size_bytes', 'dump_size_bytes', 'added_bytes',
      'backup_location', 'sha256_stored', 'sha256_dump', 'started_at', 'completed_at', 'expires_at', 'legal_hold', 'error_message', 'requested_by',
    ]);
    assert.equal(json.started_at, '2026-11-26T02:00:00Z');
    assert.equal(json.backup_size_bytes, 1234);
    assert.equal(isoUtc(new Date('2026-11-26T02:00:00.789Z')), '2026-11-26T02:00:00Z');
  });

  it('round-trips a manifest and names the first bad field', () => {
    const manifest = buildManifest({
      backup: backupJson(row),
      tenant: { id: 'acme', name: 'Acme', schemaName: 'acme' },
      recipients: ['age1xyz'],
      pgDumpVersion: '15.18',
      serverVersion: '15.18',
    });
    assert.deepEqual(parseManifest(manifestBytes(manifest).toString()), manifest);
    assert.throws(() => parseManifest(JSON.stringify({ ...manifest, format_version: 2 })), /format_version/);
    assert.throws(() => parseManifest('{'), /not JSON/);
  });
});
