// The emulator against the `backblaze-b2` npm client (the one lib/storage uses), over loopback HTTP.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BUCKET, KEY, KEY_ID, patterned, sha1, startTestServer, type TestServer } from './test-support.ts';

// backblaze-b2 ships no types; this is the part of it the tests use.
interface Res<T = Record<string, unknown>> {
  status: number;
  data: T;
  headers: Record<string, string>;
}
interface FileJson {
  fileId: string;
  fileName: string;
  action: string;
  contentLength: number;
  contentSha1: string;
  fileInfo: Record<string, string>;
}
interface UploadUrl {
  uploadUrl: string;
  authorizationToken: string;
}
type Args = Record<string, unknown>;
interface B2Client {
  authorizationToken: string;
  apiUrl: string;
  accountId: string;
  authorize(args: Args): Promise<Res>;
  createBucket(args: Args): Promise<Res>;
  listBuckets(): Promise<Res<{ buckets: { bucketName: string; bucketId: string }[] }>>;
  getBucket(args: Args): Promise<Res<{ buckets: { bucketName: string; bucketId: string }[] }>>;
  getUploadUrl(args: Args): Promise<Res<UploadUrl>>;
  uploadFile(args: Args): Promise<Res<FileJson>>;
  listFileNames(args: Args): Promise<Res<{ files: FileJson[]; nextFileName: string | null }>>;
  listFileVersions(args: Args): Promise<Res<{ files: FileJson[]; nextFileName: string | null; nextFileId: string | null }>>;
  hideFile(args: Args): Promise<Res<FileJson>>;
  getFileInfo(args: Args): Promise<Res<FileJson>>;
  downloadFileByName(args: Args): Promise<Res<Readable>>;
  downloadFileById(args: Args): Promise<Res<Readable>>;
  deleteFileVersion(args: Args): Promise<Res>;
  startLargeFile(args: Args): Promise<Res<FileJson>>;
  getUploadPartUrl(args: Args): Promise<Res<UploadUrl>>;
  uploadPart(args: Args): Promise<Res<{ partNumber: number; contentSha1: string }>>;
  finishLargeFile(args: Args): Promise<Res<FileJson>>;
  cancelLargeFile(args: Args): Promise<Res>;
}
const require = createRequire(import.meta.url);
const B2 = require('backblaze-b2') as new (opts: Args) => B2Client;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The B2 error of a rejected call: `{status, code}` from the JSON body (or the HTTP status). */
async function b2Error(promise: Promise<unknown>): Promise<{ status: number; code: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    const response = (err as { response?: { status: number; data?: unknown } }).response;
    assert.ok(response, `expected an HTTP error, got ${String(err)}`);
    let data = response.data;
    if (data && typeof (data as Readable).pipe === 'function') data = JSON.parse((await readAll(data as Readable)).toString() || '{}');
    return { status: response.status, code: (data as { code?: string } | undefined)?.code };
  }
  assert.fail('expected the call to fail');
}

describe('b2server with the backblaze-b2 client', () => {
  let t: TestServer;
  let b2: B2Client;
  let bucketId: string;
  const authorize = () => b2.authorize({ axiosOverride: { url: `${t.server.url}/b2api/v2/b2_authorize_account` } });

  async function upload(fileName: string, data: Buffer, extra: Args = {}): Promise<FileJson> {
    const url = (await b2.getUploadUrl({ bucketId })).data;
    const res = await b2.uploadFile({ uploadUrl: url.uploadUrl, uploadAuthToken: url.authorizationToken, fileName, data, ...extra });
    return res.data;
  }
  async function download(fileName: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const res = await b2.downloadFileByName({ bucketName: BUCKET, fileName, responseType: 'stream', axios: { headers } });
    return { status: res.status, headers: res.headers, body: await readAll(res.data) };
  }
  async function versionsOf(fileName: string): Promise<FileJson[]> {
    const res = await b2.listFileVersions({ bucketId, startFileName: fileName, maxFileCount: 1000 });
    return res.data.files.filter((f) => f.fileName === fileName);
  }

  before(async () => {
    t = await startTestServer();
    bucketId = t.server.bucketIds[BUCKET]!;
    b2 = new B2({ applicationKeyId: KEY_ID, applicationKey: KEY, retry: { retries: 0 } });
    const auth = await authorize();
    assert.equal(auth.data.recommendedPartSize, 100 * 1000 * 1000);
    assert.equal(auth.data.absoluteMinimumPartSize, 5 * 1000 * 1000);
    assert.equal(auth.data.apiUrl, t.server.url);
  });
  after(async () => {
    await t?.close();
  });

  it('refuses a wrong key with 401 unauthorized', async () => {
    const other = new B2({ applicationKeyId: KEY_ID, applicationKey: 'wrong' });
    const err = await b2Error(other.authorize({ axiosOverride: { url: `${t.server.url}/b2api/v2/b2_authorize_account` } }));
    assert.deepEqual(err, { status: 401, code: 'unauthorized' });
    // `new B2` swapped the module's axios instance; put ours back (one client per process).
    b2 = new B2({ applicationKeyId: KEY_ID, applicationKey: KEY, retry: { retries: 0 } });
    await authorize();
  });

  it('lists the bucket and refuses a duplicate bucket name', async () => {
    const found = await b2.getBucket({ bucketName: BUCKET });
    assert.deepEqual(found.data.buckets.map((b) => [b.bucketName, b.bucketId]), [[BUCKET, bucketId]]);
    assert.deepEqual(await b2Error(b2.createBucket({ bucketName: BUCKET, bucketType: 'allPrivate' })), { status: 400, code: 'duplicate_bucket_name' });
    const created = await b2.createBucket({ bucketName: 'strata-other', bucketType: 'allPrivate' });
    assert.equal((created.data as { bucketName: string }).bucketName, 'strata-other');
    assert.deepEqual((await b2.listBuckets()).data.buckets.map((b) => b.bucketName), ['strata-other', BUCKET]); // B2 lists buckets by name
  });

  it('uploads, lists and downloads a file with its info', async () => {
    const data = Buffer.from('hello, B2 ☃\n');
    const up = await upload('docs/hello world.txt', data, { info: { author: 'strata test', n: '1' } });
    assert.equal(up.contentSha1, sha1(data));
    assert.equal(up.contentLength, data.length);
    assert.equal(up.action, 'upload');
    assert.deepEqual(up.fileInfo, { author: 'strata test', n: '1' });

    const list = await b2.listFileNames({ bucketId, prefix: 'docs/' });
    assert.deepEqual(list.data.files.map((f) => [f.fileName, f.contentLength, f.fileId]), [['docs/hello world.txt', data.length, up.fileId]]);

    const got = await download('docs/hello world.txt');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, data);
    assert.equal(got.headers['x-bz-file-id'], up.fileId);
    assert.equal(got.headers['x-bz-file-name'], 'docs/hello%20world.txt');
    assert.equal(got.headers['x-bz-content-sha1'], sha1(data));
    assert.equal(got.headers['x-bz-info-author'], 'strata%20test');
    assert.equal(got.headers['content-type'], 'text/plain');
    assert.equal(got.headers['content-length'], String(data.length));
    assert.match(got.headers['x-bz-upload-timestamp']!, /^\d{13}$/);

    const byId = await b2.downloadFileById({ fileId: up.fileId, responseType: 'stream' });
    assert.deepEqual(await readAll(byId.data), data);
    const info = await b2.getFileInfo({ fileId: up.fileId });
    assert.equal(info.data.fileName, 'docs/hello world.txt');
  });

  it('serves byte ranges with 206 and Content-Range', async () => {
    const data = patterned(1000, 7);
    await upload('range.bin', data);
    const mid = await download('range.bin', { Range: 'bytes=100-199' });
    assert.equal(mid.status, 206);
    assert.equal(mid.headers['content-range'], 'bytes 100-199/1000');
    assert.deepEqual(mid.body, data.subarray(100, 200));
    const tail = await download('range.bin', { Range: 'bytes=990-' });
    assert.deepEqual(tail.body, data.subarray(990));
    const suffix = await download('range.bin', { Range: 'bytes=-5' });
    assert.equal(suffix.headers['content-range'], 'bytes 995-999/1000');
    assert.deepEqual(suffix.body, data.subarray(995));
    const past = await b2Error(download('range.bin', { Range: 'bytes=1000-1001' }));
    assert.equal(past.status, 416);
  });

  it('refuses an upload whose SHA1 does not match (400 bad_request) and stores nothing', async () => {
    const err = await b2Error(upload('bad-sha.txt', Buffer.from('payload'), { hash: sha1('something else') }));
    assert.deepEqual(err, { status: 400, code: 'bad_request' });
    assert.deepEqual(await versionsOf('bad-sha.txt'), []);
  });

  it('uploads a large file in 4 parts, refusing a wrong partSha1Array, and reads it back', async () => {
    const sizes = [5_000_000, 5_000_000, 5_000_000, 1];
    const whole = patterned(sizes.reduce((a, b) => a + b), 11);
    const start = await b2.startLargeFile({ bucketId, fileName: 'large/big.bin', contentType: 'application/octet-stream' });
    const fileId = start.data.fileId;
    const partSha1Array: string[] = [];
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      const part = whole.subarray(offset, offset + size);
      offset += size;
      const url = (await b2.getUploadPartUrl({ fileId })).data;
      const res = await b2.uploadPart({ uploadUrl: url.uploadUrl, uploadAuthToken: url.authorizationToken, partNumber: i + 1, data: part });
      assert.equal(res.data.contentSha1, sha1(part));
      partSha1Array.push(sha1(part));
    }
    const wrong = [...partSha1Array];
    wrong[1] = sha1('not part 2');
    assert.deepEqual(await b2Error(b2.finishLargeFile({ fileId, partSha1Array: wrong })), { status: 400, code: 'bad_request' });
    assert.deepEqual(await b2Error(b2.finishLargeFile({ fileId, partSha1Array: partSha1Array.slice(0, 3) })), { status: 400, code: 'bad_request' });

    const done = await b2.finishLargeFile({ fileId, partSha1Array });
    assert.equal(done.data.action, 'upload');
    assert.equal(done.data.contentLength, whole.length);
    const got = await download('large/big.bin');
    assert.equal(got.body.length, whole.length);
    assert.equal(sha1(got.body), sha1(whole));
    // A range across the boundary of parts 1 and 2.
    const across = await download('large/big.bin', { Range: 'bytes=4999990-5000009' });
    assert.deepEqual(across.body, whole.subarray(4_999_990, 5_000_010));
  });

  it('refuses to finish a large file whose non-last part is under 5 MB', async () => {
    const start = await b2.startLargeFile({ bucketId, fileName: 'large/small-parts.bin', contentType: 'b2/x-auto' });
    const fileId = start.data.fileId;
    const parts = [patterned(1000, 1), patterned(1000, 2)];
    for (const [i, part] of parts.entries()) {
      const url = (await b2.getUploadPartUrl({ fileId })).data;
      await b2.uploadPart({ uploadUrl: url.uploadUrl, uploadAuthToken: url.authorizationToken, partNumber: i + 1, data: part });
    }
    assert.deepEqual(await b2Error(b2.finishLargeFile({ fileId, partSha1Array: parts.map((p) => sha1(p)) })), { status: 400, code: 'bad_request' });
    await b2.cancelLargeFile({ fileId });
  });

  it('lists unfinished large files and cancels them', async () => {
    const start = await b2.startLargeFile({ bucketId, fileName: 'large/unfinished.bin', contentType: 'b2/x-auto' });
    const fileId = start.data.fileId;
    const url = (await b2.getUploadPartUrl({ fileId })).data;
    await b2.uploadPart({ uploadUrl: url.uploadUrl, uploadAuthToken: url.authorizationToken, partNumber: 1, data: patterned(100, 3) });
    // backblaze-b2 1.7.1 leaves b2_list_unfinished_large_files unimplemented: call it with the client's token.
    const listUnfinished = async () => {
      const res = await fetch(`${b2.apiUrl}/b2api/v2/b2_list_unfinished_large_files`, {
        method: 'POST',
        headers: { Authorization: b2.authorizationToken },
        body: JSON.stringify({ bucketId }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { files: FileJson[] }).files;
    };
    assert.deepEqual((await listUnfinished()).map((f) => [f.fileId, f.fileName, f.action]), [[fileId, 'large/unfinished.bin', 'start']]);
    // An unfinished large file is no file yet.
    assert.equal((await b2.listFileNames({ bucketId, prefix: 'large/unfinished' })).data.files.length, 0);
    await b2.cancelLargeFile({ fileId });
    assert.deepEqual(await listUnfinished(), []);
    assert.deepEqual(await versionsOf('large/unfinished.bin'), []);
    assert.equal((await b2Error(b2.getUploadPartUrl({ fileId }))).status, 400);
  });

  it('keeps every upload as a version; hide hides, deleting every version removes the file', async () => {
    const v1 = await upload('versioned.txt', Buffer.from('one'));
    const v2 = await upload('versioned.txt', Buffer.from('two'));
    let versions = await versionsOf('versioned.txt');
    assert.deepEqual(versions.map((v) => [v.fileId, v.action]), [[v2.fileId, 'upload'], [v1.fileId, 'upload']]);
    assert.equal((await download('versioned.txt')).body.toString(), 'two');

    const hidden = await b2.hideFile({ bucketId, fileName: 'versioned.txt' });
    assert.equal(hidden.data.action, 'hide');
    assert.equal((await b2.listFileNames({ bucketId, prefix: 'versioned' })).data.files.length, 0);
    assert.deepEqual(await b2Error(download('versioned.txt')), { status: 404, code: 'not_found' });
    versions = await versionsOf('versioned.txt');
    assert.deepEqual(versions.map((v) => v.action), ['hide', 'upload', 'upload']);
    // Hidden is not deleted: the versions are still readable by id.
    assert.equal((await readAll((await b2.downloadFileById({ fileId: v1.fileId, responseType: 'stream' })).data)).toString(), 'one');

    for (const v of versions) await b2.deleteFileVersion({ fileId: v.fileId, fileName: v.fileName });
    assert.deepEqual(await versionsOf('versioned.txt'), []);
    assert.equal((await b2Error(b2.downloadFileById({ fileId: v1.fileId, responseType: 'stream' }))).status, 404);
    assert.deepEqual(await b2Error(b2.deleteFileVersion({ fileId: v1.fileId, fileName: 'versioned.txt' })), { status: 400, code: 'file_not_present' });
  });

  it('answers 401 expired_auth_token after the tokens expire, and works again after re-authorizing', async () => {
    const oldUrl = (await b2.getUploadUrl({ bucketId })).data;
    t.server.expireTokens();
    assert.deepEqual(await b2Error(b2.listBuckets()), { status: 401, code: 'expired_auth_token' });
    assert.deepEqual(await b2Error(download('range.bin')), { status: 401, code: 'expired_auth_token' });
    const staleUpload = b2.uploadFile({ uploadUrl: oldUrl.uploadUrl, uploadAuthToken: oldUrl.authorizationToken, fileName: 'x.txt', data: Buffer.from('x') });
    assert.deepEqual(await b2Error(staleUpload), { status: 401, code: 'expired_auth_token' });
    await authorize();
    assert.equal((await b2.listBuckets()).status, 200);
    assert.equal((await upload('after-expiry.txt', Buffer.from('ok'))).contentLength, 2);
  });

  it('answers injected 503 service_unavailable to uploads, then recovers', async () => {
    t.server.failNextUploads(2);
    assert.deepEqual(await b2Error(upload('flaky.txt', Buffer.from('1'))), { status: 503, code: 'service_unavailable' });
    const start = await b2.startLargeFile({ bucketId, fileName: 'flaky-large.bin', contentType: 'b2/x-auto' });
    const url = (await b2.getUploadPartUrl({ fileId: start.data.fileId })).data;
    const part = b2.uploadPart({ uploadUrl: url.uploadUrl, uploadAuthToken: url.authorizationToken, partNumber: 1, data: patterned(10, 1) });
    assert.deepEqual(await b2Error(part), { status: 503, code: 'service_unavailable' });
    await b2.cancelLargeFile({ fileId: start.data.fileId });
    assert.equal((await upload('flaky.txt', Buffer.from('1'))).contentLength, 1);
    assert.deepEqual((await versionsOf('flaky.txt')).length, 1);
  });
});
