import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../env.ts';
import { startS3Server } from '../services/s3.ts';
import { chunkedStream, readAll } from './conformance.ts';
import { createStores } from './registry.ts';

const base = {
  DATABASE_URL: 'postgres://strata@localhost/saas',
  S3_BACKUP_BUCKET: 'strata-backups',
  BACKUP_ENCRYPTION_RECIPIENTS: `age1${'q'.repeat(58)}`,
  S3_ENDPOINT: 'http://127.0.0.1:9',
  S3_FORCE_PATH_STYLE: 'true',
  S3_CHECKSUM_MODE: 'when_required',
};
const b2 = {
  B2_APPLICATION_KEY_ID: 'kid',
  B2_APPLICATION_KEY: 'secret',
  B2_BUCKET_NAME: 'strata-cold',
  B2_BUCKET_ID: 'bucket-id',
  B2_AUTH_URL: 'http://127.0.0.1:9',
};

describe('createStores', () => {
  it('chooses the backend by storage tier', () => {
    const stores = createStores(parseConfig({ ...base, ...b2 }));
    assert.equal(stores.forTier('s3_standard').tier, 's3_standard');
    assert.equal(stores.forTier('s3_ia').tier, 's3_ia');
    assert.equal(stores.forTier('b2_cold').tier, 'b2_cold');
    assert.equal(stores.forTier('s3_standard'), stores.forTier('s3_standard'), 'one store (and client) per tier');
    assert.equal(stores.forTier('s3_standard').location('backups/t/x'), 's3://strata-backups/backups/t/x');
    assert.equal(stores.forTier('s3_ia').bucket, 'strata-backups', 's3 tiers share the bucket');
    assert.equal(stores.forTier('b2_cold').location('backups/t/x'), 'b2://strata-cold/backups/t/x');
    assert.deepEqual(stores.all().map((s) => s.tier), ['s3_standard', 's3_ia', 'b2_cold']);
  });

  it('finds the store of a backup location', () => {
    const stores = createStores(parseConfig({ ...base, ...b2 }));
    assert.equal(stores.forLocation('b2://strata-cold/backups/t/2026/11/u/dump.zst.age').tier, 'b2_cold');
    assert.match(stores.forLocation('s3://strata-backups/backups/t/2026/11/u/dump.zst.age').tier, /^s3_/);
    assert.throws(() => stores.forLocation('s3://other-bucket/k'), /S3_BACKUP_BUCKET is strata-backups/);
    assert.throws(() => stores.forLocation('b2://other/k'), /B2_BUCKET_NAME is strata-cold/);
    assert.throws(() => stores.forLocation('gs://x/k'), /not a backup location/);
  });

  it('refuses b2_cold without B2 configuration, naming the variables', () => {
    const stores = createStores(parseConfig(base));
    assert.throws(() => stores.forTier('b2_cold'), /b2_cold needs B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, B2_BUCKET_NAME and B2_BUCKET_ID/);
    assert.throws(() => stores.forLocation('b2://strata-cold/k'), /b2_cold needs B2_APPLICATION_KEY_ID/);
    assert.deepEqual(stores.all().map((s) => s.tier), ['s3_standard', 's3_ia']);
  });
});

describe('createStores against s3rver', () => {
  it('writes through a tier and reads back through the location', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-registry-'));
    const server = await startS3Server({ dir, buckets: ['strata-backups'] });
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    try {
      const stores = createStores(parseConfig({ ...base, S3_ENDPOINT: server.endpoint, S3_PART_SIZE_MB: '5' }), {
        retry: { attempts: 2, baseDelayMs: 10 },
      });
      const ia = stores.forTier('s3_ia');
      const data = Buffer.from('manifest');
      await ia.put('backups/t1/2026/11/u/manifest.json', chunkedStream(data));
      const store = stores.forLocation(ia.location('backups/t1/2026/11/u/manifest.json'));
      assert.deepEqual(await readAll(await store.get('backups/t1/2026/11/u/manifest.json')), data);
      await store.delete('backups/t1/2026/11/u/manifest.json');
      assert.equal(await ia.head('backups/t1/2026/11/u/manifest.json'), null);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
