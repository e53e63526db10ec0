import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startS3Server, type S3Server } from '../services/s3.ts';
import { chunkedStream, storageSuite } from './conformance.ts';
import { createS3Store, type AbortRequest, type S3StoreOptions, type S3Tier } from './s3.ts';

const BUCKET = 'strata-test';
const MiB = 1024 * 1024;

// s3rver accepts only this key pair; the store reads it through the standard credential chain.
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

async function startServer(): Promise<{ server: S3Server; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'strata-s3-'));
  return { server: await startS3Server({ dir, buckets: [BUCKET] }), dir };
}

function storeOptions(server: S3Server, tier: S3Tier, extra: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    tier,
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    checksumMode: 'when_required',
    partSizeMb: 5,
    listPageSize: 7,
    ...extra,
  };
}

for (const tier of ['s3_standard', 's3_ia'] as const) {
  storageSuite(`s3 (${tier}) on s3rver`, async () => {
    const { server, dir } = await startServer();
    const store = createS3Store(storeOptions(server, tier));
    return {
      store,
      partSize: 5 * MiB,
      async cleanup() {
        store.destroy();
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}

describe('s3 store specifics', () => {
  let server: S3Server;
  let dir: string;
  before(async () => {
    ({ server, dir } = await startServer());
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a failing body leads to a recorded AbortMultipartUpload (405 on s3rver, swallowed)', async () => {
    const requests: AbortRequest[] = [];
    const store = createS3Store(storeOptions(server, 's3_standard', { onAbortRequested: (r) => requests.push(r) }));
    const boom = new Error('dump failed');
    await assert.rejects(store.put('abort/fails.bin', chunkedStream(randomBytes(11 * MiB), { failWith: boom })), (err) => err === boom);
    assert.equal(store.abortsRequested, 1);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.key, 'abort/fails.bin');
    assert.ok(requests[0]!.uploadId);
    assert.equal(requests[0]!.supported, false);
    assert.equal(await store.head('abort/fails.bin'), null);
    store.destroy();
  });

  it('keeps the storage class on the object', async () => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const ia = createS3Store(storeOptions(server, 's3_ia'));
    await ia.put('class/ia.bin', chunkedStream(randomBytes(6 * MiB)));
    const head = await ia.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'class/ia.bin' }));
    assert.equal(head.StorageClass, 'STANDARD_IA');
    ia.destroy();
  });

  it('classifies errors', () => {
    const store = createS3Store(storeOptions(server, 's3_standard'));
    const svc = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.ok(store.isNotFound(svc('NoSuchKey', 404)));
    assert.ok(!store.isNotFound(svc('NoSuchBucket', 404)));
    assert.ok(store.isPermanent(svc('AccessDenied', 403)));
    assert.ok(store.isPermanent(svc('NoSuchBucket', 404)));
    assert.ok(!store.isPermanent(svc('SlowDown', 503)));
    assert.ok(!store.isPermanent(svc('RequestTimeout', 400)));
    assert.ok(!store.isPermanent(svc('InternalError', 500)));
    assert.ok(!store.isPermanent(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    store.destroy();
  });
});
