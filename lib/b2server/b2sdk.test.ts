// The B2 server against Backblaze's own Python SDK (Debian's python3-b2sdk, b2api v2), beside the
// backblaze-b2 (node) and rclone tests: upload with file info, a large file of three parts (listed
// while unfinished), range reads across a part boundary, versions, a hide marker, deleting every
// version. b2sdk refuses file versions without fileRetention/legalHold, as real B2 always sends them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BUCKET, KEY, KEY_ID, startTestServer, type TestServer } from './test-support.ts';

const run = promisify(execFile);
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'b2sdk_client.py');
/** Debian's interpreter: python3-b2sdk installs for it, not for another python3 earlier in PATH. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

interface SdkVersion {
  id: string;
  file_name: string;
  size: number;
  action: string;
  content_sha1: string;
  file_info: Record<string, string>;
  file_retention_mode: string | null;
  legal_hold: string | null;
  encryption_mode: string;
}

interface SdkReport {
  small: SdkVersion;
  small_sha1: string;
  big: SdkVersion;
  big_size: number;
  big_sha1: string;
  listed_parts: [number, number][];
  unfinished: string[];
  big_parts_size: number;
  big_parts_download_sha1: string;
  range_ok: boolean;
  hide_action: string;
  versions: SdkVersion[];
  latest: string[];
  after_delete: string[];
}

describe('b2server with b2sdk (Backblaze Python SDK)', () => {
  let t: TestServer;
  let work: string;
  let report: SdkReport;

  before(async () => {
    t = await startTestServer();
    work = await mkdtemp(path.join(tmpdir(), 'strata-b2sdk-'));
    try {
      const { stdout } = await run(DEBIAN_PYTHON, [SCRIPT, t.server.url, KEY_ID, KEY, BUCKET, work], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
      report = JSON.parse(stdout) as SdkReport;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`b2sdk client failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  });
  after(async () => {
    await t?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('uploads a small file with its info and SHA-1, no retention, no hold, no encryption', () => {
    assert.equal(report.small.action, 'upload');
    assert.equal(report.small.size, 26);
    assert.equal(report.small.content_sha1, report.small_sha1);
    assert.deepEqual(report.small.file_info, { origin: 'b2sdk' });
    assert.equal(report.small.file_retention_mode, null);
    assert.equal(report.small.legal_hold, null);
    assert.equal(report.small.encryption_mode, 'none');
  });

  it('stores a large file the SDK planned into parts, and one of three parts it listed while unfinished', () => {
    assert.equal(report.big.size, report.big_size);
    assert.equal(report.big.content_sha1, 'none', 'a large file has no whole-file SHA-1');
    assert.deepEqual(
      report.listed_parts.map(([n]) => n),
      [1, 2, 3],
    );
    assert.equal(report.listed_parts.reduce((a, [, len]) => a + len, 0), report.big_size);
    assert.deepEqual(report.unfinished, ['sdk/big-parts.bin']);
    assert.equal(report.big_parts_size, report.big_size);
    assert.equal(report.big_parts_download_sha1, report.big_sha1);
  });

  it('answers a range read across a part boundary with exactly those bytes', () => {
    assert.equal(report.range_ok, true);
  });

  it('keeps versions, hides a name, and lists the latest versions without it', () => {
    assert.equal(report.hide_action, 'hide');
    const small = report.versions.filter((v) => v.file_name === 'sdk/small.txt').map((v) => v.action);
    assert.deepEqual(small, ['hide', 'upload', 'upload'], 'newest first: the hide marker, then both uploads');
    assert.deepEqual(report.latest.sort(), ['sdk/big-parts.bin', 'sdk/big.bin']);
  });

  it('deletes every version of every name', async () => {
    assert.deepEqual(report.after_delete, []);
    const auth = (await (await fetch(`${t.server.url}/b2api/v2/b2_authorize_account`, { headers: { Authorization: `Basic ${Buffer.from(`${KEY_ID}:${KEY}`).toString('base64')}` } })).json()) as { authorizationToken: string };
    const res = await fetch(`${t.server.url}/b2api/v2/b2_list_file_versions`, {
      method: 'POST',
      headers: { Authorization: auth.authorizationToken },
      body: JSON.stringify({ bucketId: t.server.bucketIds[BUCKET], prefix: 'sdk/', maxFileCount: 1000 }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { files: unknown[] }).files, []);
  });
});
