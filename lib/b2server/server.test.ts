// The emulator over raw HTTP: what the client libraries never send (bad input, the other SHA1
// modes, query-string tokens), the HTTP test hooks, persistence across restarts and main.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startB2Server } from './index.ts';
import { BUCKET, KEY, KEY_ID, basicAuth, patterned, sha1, startTestServer, type TestServer } from './test-support.ts';

interface Auth {
  authorizationToken: string;
  apiUrl: string;
  downloadUrl: string;
  accountId: string;
}

async function authorize(base: string, version = 'v2'): Promise<Auth> {
  const res = await fetch(`${base}/b2api/${version}/b2_authorize_account`, { headers: { Authorization: basicAuth() } });
  assert.equal(res.status, 200);
  return (await res.json()) as Auth;
}

async function api(base: string, token: string | undefined, op: string, body: unknown, version = 'v2'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/b2api/${version}/${op}`, {
    method: 'POST',
    headers: token ? { Authorization: token } : {},
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function uploadRaw(base: string, auth: Auth, bucketId: string, fileName: string, body: Buffer, sha1Header: string, extra: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = (await api(base, auth.authorizationToken, 'b2_get_upload_url', { bucketId })).json as { uploadUrl: string; authorizationToken: string };
  const res = await fetch(url.uploadUrl, {
    method: 'POST',
    headers: { Authorization: url.authorizationToken, 'X-Bz-File-Name': encodeURIComponent(fileName), 'Content-Type': 'b2/x-auto', 'X-Bz-Content-Sha1': sha1Header, ...extra },
    body: new Uint8Array(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('b2server over raw HTTP', () => {
  let t: TestServer;
  let auth: Auth;
  let bucketId: string;
  before(async () => {
    t = await startTestServer();
    auth = await authorize(t.server.url);
    bucketId = t.server.bucketIds[BUCKET]!;
  });
  after(async () => {
    await t?.close();
  });

  it('answers bad input with 400 JSON errors, never a crash', async () => {
    const bad = await api(t.server.url, auth.authorizationToken, 'b2_list_file_names', '{not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.status, 400);
    assert.equal(bad.json.code, 'bad_json');
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_list_file_names', {})).json.code, 'bad_request');
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_list_file_names', { bucketId: 42 })).json.code, 'bad_request');
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_finish_large_file', { fileId: 'nope', partSha1Array: 'x' })).json.code, 'bad_request');
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_get_upload_url', { bucketId: 'no-such-bucket' })).status, 400);
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_create_bucket', { accountId: auth.accountId, bucketName: 'x', bucketType: 'allPrivate' })).status, 400);
    const noSha = await fetch((await api(t.server.url, auth.authorizationToken, 'b2_get_upload_url', { bucketId })).json.uploadUrl as string, { method: 'POST', body: 'x' });
    assert.equal(noSha.status, 401);
    const unknown = await fetch(`${t.server.url}/b2api/v2/b2_no_such_call`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: string }).code, 'not_found');
    // Still serving.
    assert.equal((await api(t.server.url, auth.authorizationToken, 'b2_list_buckets', { accountId: auth.accountId })).status, 200);
  });

  it('answers missing and wrong tokens with 401', async () => {
    assert.deepEqual((await api(t.server.url, undefined, 'b2_list_buckets', { accountId: auth.accountId })).json.code, 'bad_auth_token');
    assert.deepEqual((await api(t.server.url, 'not-a-token', 'b2_list_buckets', { accountId: auth.accountId })).json.code, 'bad_auth_token');
    assert.equal((await fetch(`${t.server.url}/file/${BUCKET}/anything`)).status, 401);
  });

  it('accepts hex_digits_at_end and do_not_verify, and refuses a wrong trailing SHA1', async () => {
    const data = Buffer.from('trailing checksum');
    const atEnd = await uploadRaw(t.server.url, auth, bucketId, 'sha/at-end.txt', Buffer.concat([data, Buffer.from(sha1(data))]), 'hex_digits_at_end');
    assert.equal(atEnd.status, 200, JSON.stringify(atEnd.json));
    assert.equal(atEnd.json.contentLength, data.length);
    assert.equal(atEnd.json.contentSha1, sha1(data));
    const wrongEnd = await uploadRaw(t.server.url, auth, bucketId, 'sha/wrong-end.txt', Buffer.concat([data, Buffer.from(sha1('other'))]), 'hex_digits_at_end');
    assert.deepEqual([wrongEnd.status, wrongEnd.json.code], [400, 'bad_request']);
    const unverified = await uploadRaw(t.server.url, auth, bucketId, 'sha/unverified.txt', data, 'do_not_verify');
    assert.equal(unverified.json.contentSha1, `unverified:${sha1(data)}`);
    const dl = await fetch(`${t.server.url}/file/${BUCKET}/sha/at-end.txt`, { headers: { Authorization: auth.authorizationToken } });
    assert.equal(await dl.text(), data.toString());
  });

  it('downloads with the token in ?Authorization=, answers HEAD with headers only', async () => {
    const data = patterned(300, 9);
    await uploadRaw(t.server.url, auth, bucketId, 'dir/sub dir/file+1.bin', data, sha1(data), { 'X-Bz-Info-src_last_modified_millis': '1700000000000' });
    const url = `${t.server.url}/file/${BUCKET}/dir/sub%20dir/file%2B1.bin`;
    const q = await fetch(`${url}?Authorization=${encodeURIComponent(auth.authorizationToken)}`);
    assert.equal(q.status, 200);
    assert.ok(Buffer.from(await q.arrayBuffer()).equals(data));
    const head = await fetch(url, { method: 'HEAD', headers: { Authorization: auth.authorizationToken } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '300');
    assert.equal(head.headers.get('x-bz-info-src_last_modified_millis'), '1700000000000');
    assert.equal(head.headers.get('x-bz-file-name'), 'dir/sub%20dir/file%2B1.bin');
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const missing = await fetch(`${t.server.url}/file/${BUCKET}/dir/none`, { headers: { Authorization: auth.authorizationToken } });
    assert.deepEqual([missing.status, ((await missing.json()) as { code: string }).code], [404, 'not_found']);
  });

  it('lists with a delimiter and pages with nextFileName / nextFileId (v1 adds size)', async () => {
    const names = ['page/a.txt', 'page/b.txt', 'page/c/d.txt', 'page/c/e.txt', 'page/f.txt'];
    for (const n of names) await uploadRaw(t.server.url, auth, bucketId, n, Buffer.from(n), sha1(n));
    await uploadRaw(t.server.url, auth, bucketId, 'page/a.txt', Buffer.from('again'), sha1('again'));
    const folders = await api(t.server.url, auth.authorizationToken, 'b2_list_file_names', { bucketId, prefix: 'page/', delimiter: '/' });
    assert.deepEqual((folders.json.files as { fileName: string; action: string }[]).map((f) => [f.fileName, f.action]), [
      ['page/a.txt', 'upload'], ['page/b.txt', 'upload'], ['page/c/', 'folder'], ['page/f.txt', 'upload'],
    ]);
    const seen: string[] = [];
    let start: string | null = 'page/';
    while (start !== null) {
      const page = await api(t.server.url, auth.authorizationToken, 'b2_list_file_names', { bucketId, prefix: 'page/', startFileName: start, maxFileCount: 2 }, 'v1');
      const files = page.json.files as { fileName: string; size: number; contentLength: number }[];
      assert.ok(files.length <= 2);
      for (const f of files) assert.equal(f.size, f.contentLength);
      seen.push(...files.map((f) => f.fileName));
      start = page.json.nextFileName as string | null;
    }
    assert.deepEqual(seen, names);
    const versionsSeen: string[] = [];
    let cursor: { startFileName?: string; startFileId?: string } = { startFileName: 'page/' };
    for (;;) {
      const page = await api(t.server.url, auth.authorizationToken, 'b2_list_file_versions', { bucketId, prefix: 'page/', maxFileCount: 1, ...cursor });
      versionsSeen.push(...(page.json.files as { fileName: string }[]).map((f) => f.fileName));
      if (page.json.nextFileName === null) break;
      cursor = { startFileName: page.json.nextFileName as string, startFileId: page.json.nextFileId as string };
    }
    assert.deepEqual(versionsSeen, ['page/a.txt', 'page/a.txt', ...names.slice(1)]);
  });

  it('drives the test hooks over HTTP with the server key', async () => {
    const hook = (name: string, body: unknown, authz = basicAuth()) =>
      fetch(`${t.server.url}/__strata/${name}`, { method: 'POST', headers: { Authorization: authz }, body: JSON.stringify(body) });
    assert.equal((await hook('fail-uploads', { n: 1 }, basicAuth(KEY_ID, 'wrong'))).status, 401);
    assert.equal((await hook('fail-uploads', { n: 1 })).status, 200);
    const failed = await uploadRaw(t.server.url, auth, bucketId, 'hooked.txt', Buffer.from('h'), sha1('h'));
    assert.deepEqual([failed.status, failed.json.code], [503, 'service_unavailable']);
    assert.equal((await uploadRaw(t.server.url, auth, bucketId, 'hooked.txt', Buffer.from('h'), sha1('h'))).status, 200);

    assert.equal((await hook('latency', { ms: 150 })).status, 200);
    const began = Date.now();
    await api(t.server.url, auth.authorizationToken, 'b2_list_buckets', { accountId: auth.accountId });
    assert.ok(Date.now() - began >= 140, 'latency applied');
    await hook('latency', { ms: 0 });

    assert.equal((await hook('expire-tokens', {})).status, 200);
    assert.deepEqual((await api(t.server.url, auth.authorizationToken, 'b2_list_buckets', { accountId: auth.accountId })).json.code, 'expired_auth_token');
    auth = await authorize(t.server.url);
  });
});

describe('b2server persistence and main.ts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'strata-b2-restart-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps files, versions, unfinished large files and bucket ids across a restart', async () => {
    const first = await startB2Server({ dir, keyId: KEY_ID, key: KEY, buckets: [BUCKET] });
    const a1 = await authorize(first.url);
    const bucketId = first.bucketIds[BUCKET]!;
    const data = patterned(5000, 4);
    await uploadRaw(first.url, a1, bucketId, 'keep.bin', data, sha1(data));
    await uploadRaw(first.url, a1, bucketId, 'keep.bin', data, sha1(data));
    const started = await api(first.url, a1.authorizationToken, 'b2_start_large_file', { bucketId, fileName: 'half.bin', contentType: 'b2/x-auto' });
    await first.stop();

    const second = await startB2Server({ dir, keyId: KEY_ID, key: KEY, buckets: [BUCKET] });
    try {
      assert.equal(second.bucketIds[BUCKET], bucketId);
      // Tokens do not survive a restart; clients re-authorize.
      assert.equal((await api(second.url, a1.authorizationToken, 'b2_list_buckets', { accountId: a1.accountId })).status, 401);
      const a2 = await authorize(second.url);
      assert.equal(a2.accountId, a1.accountId);
      const versions = await api(second.url, a2.authorizationToken, 'b2_list_file_versions', { bucketId });
      assert.deepEqual((versions.json.files as { fileName: string; action: string }[]).map((f) => [f.fileName, f.action]), [
        ['half.bin', 'start'], ['keep.bin', 'upload'], ['keep.bin', 'upload'],
      ]);
      const dl = await fetch(`${second.url}/file/${BUCKET}/keep.bin`, { headers: { Authorization: a2.authorizationToken } });
      assert.ok(Buffer.from(await dl.arrayBuffer()).equals(data));
      const cancel = await api(second.url, a2.authorizationToken, 'b2_cancel_large_file', { fileId: started.json.fileId });
      assert.equal(cancel.status, 200);
      assert.deepEqual(await readdir(path.join(dir, 'tmp')), []);
    } finally {
      await second.stop();
    }
  });

  it('runs as a child process, prints its URL and stops on SIGTERM', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--dir', dir, '--port', '0', '--key-id', KEY_ID, '--key', KEY, '--bucket', BUCKET, '--bucket', 'strata-second'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const ready = JSON.parse(line) as { url: string; bucketIds: Record<string, string> };
      assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(Object.keys(ready.bucketIds).sort(), ['strata-second', BUCKET].sort());
      const a = await authorize(ready.url, 'v1');
      assert.equal(a.apiUrl, ready.url);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
