// The catalog comparison every restore and verification makes before trusting a manifest (issue 13).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyMismatch } from '../catalog/rebuild.ts';
import type { ManifestV1 } from '../backup/manifest.ts';
import { catalogMismatch, type RestoreManifest } from './manifest.ts';

const id = '3f1c1e0e-9a4b-4c1d-8e2f-0123456789ab';
const prefix = `backups/acme/2026/11/${id}/`;
const sha = (c: string) => c.repeat(64);
const row = {
  id,
  tenantId: 'acme',
  backupLocation: `s3://bucket/${prefix}dump.zst.age`,
  sha256Stored: sha('a'),
  sha256Dump: sha('b'),
  backupSizeBytes: 100,
  dumpSizeBytes: 200,
  signed: true,
};
const manifest = (over: Partial<RestoreManifest['backup']> = {}, tenantId = 'acme') =>
  ({
    format_version: 1,
    backup: { id, tenant_id: tenantId, backup_location: row.backupLocation, backup_size_bytes: 100, dump_size_bytes: 200, sha256_stored: sha('a'), sha256_dump: sha('b'), status: 'completed', ...over },
    tenant: { id: tenantId, name: 'Acme', schema_name: 'acme' },
  }) as RestoreManifest;

describe('catalogMismatch', () => {
  it('accepts the manifest of the row, also when the bucket was renamed (disaster-recovery copy)', () => {
    assert.equal(catalogMismatch(manifest(), row), null);
    assert.equal(catalogMismatch(manifest({ backup_location: `s3://other-bucket/${prefix}dump.zst.age` }), row), null);
  });
  it('refuses another id, tenant, object key or checksum, and a row without sha256_stored', () => {
    assert.match(catalogMismatch(manifest({ id: sha('c').slice(0, 36) }), row)!, /describes backup/);
    assert.match(catalogMismatch(manifest({}, 'beta'), row)!, /claims tenant "beta"/);
    assert.match(catalogMismatch(manifest({ backup_location: `s3://bucket/backups/acme/2026/11/${id}/other` }), row)!, /backup_location/);
    assert.match(catalogMismatch(manifest({ sha256_stored: sha('f') }), row)!, /sha256_stored/);
    assert.match(catalogMismatch(manifest({ sha256_dump: sha('f') }), row)!, /sha256_dump/);
    assert.match(catalogMismatch(manifest(), { ...row, sha256Stored: null })!, /no sha256_stored/);
    assert.match(catalogMismatch(manifest(), { ...row, backupLocation: `s3://bucket/backups/beta/2026/11/${id}/dump.zst.age`, tenantId: 'acme' })!, /backup_location|prefix/);
  });
});

describe('keyMismatch (catalog rebuild)', () => {
  const m = (over: Partial<ManifestV1['backup']> = {}, tenantId = 'acme') => {
    const r = manifest(over as Partial<RestoreManifest['backup']>, tenantId) as unknown as ManifestV1;
    return r;
  };
  it('accepts a manifest whose key names its tenant and id and whose backup_location is the dump beside it', () => {
    assert.equal(keyMismatch(m(), prefix), null);
  });
  it("refuses a manifest under another tenant's prefix, another id, or pointing elsewhere", () => {
    assert.match(keyMismatch(m({}, 'beta'), prefix)!, /claims tenant "beta", its key is under tenant "acme"/);
    assert.match(keyMismatch(m(), `backups/acme/2026/11/${sha('d').slice(0, 8)}-9a4b-4c1d-8e2f-0123456789ab/`)!, /its key is backup/);
    assert.match(keyMismatch(m({ backup_location: `s3://bucket/backups/acme/2026/10/${id}/dump.zst.age` }), prefix)!, /not the dump beside it/);
    assert.match(keyMismatch(m({ sha256_stored: null }), prefix)!, /no sha256/);
    assert.match(keyMismatch(m({ status: 'failed' }), prefix)!, /not completed/);
  });
});
