// The emulator against Debian's rclone (1.60, B2 native API v1), spawned with argument arrays.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BUCKET, KEY, KEY_ID, basicAuth, patterned, sha1, startTestServer, type TestServer } from './test-support.ts';

const run = promisify(execFile);
const REMOTE = 'STRATAB2';

describe('b2server with rclone', () => {
  let t: TestServer;
  let local: string;
  const small = Buffer.from('small file for rclone\n');
  const big = patterned(16_000_001, 5); // > 15 MB: four 5 MiB chunks as a B2 large file

  async function rclone(...args: string[]): Promise<string> {
    const env = {
      ...process.env,
      [`RCLONE_CONFIG_${REMOTE}_TYPE`]: 'b2',
      [`RCLONE_CONFIG_${REMOTE}_ACCOUNT`]: KEY_ID,
      [`RCLONE_CONFIG_${REMOTE}_KEY`]: KEY,
      [`RCLONE_CONFIG_${REMOTE}_ENDPOINT`]: t.server.url,
    };
    try {
      const { stdout } = await run('rclone', ['--config', '/dev/null', '--low-level-retries', '5', '--retries', '1', ...args], { env, timeout: 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
      return stdout.toString('latin1');
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`rclone ${args.join(' ')} failed: ${e.message}\n${e.stderr?.toString() ?? ''}`);
    }
  }
  const remote = (p = ''): string => `${REMOTE}:${BUCKET}${p ? `/${p}` : ''}`;
  const lines = (out: string): string[] => out.split('\n').filter(Boolean).sort();

  /** All versions of names under `prefix`, straight from the B2 API. */
  async function versions(prefix: string): Promise<{ fileName: string; action: string; contentSha1: string; fileInfo: Record<string, string> }[]> {
    const auth = (await (await fetch(`${t.server.url}/b2api/v2/b2_authorize_account`, { headers: { Authorization: basicAuth() } })).json()) as { authorizationToken: string };
    const res = await fetch(`${t.server.url}/b2api/v2/b2_list_file_versions`, {
      method: 'POST',
      headers: { Authorization: auth.authorizationToken },
      body: JSON.stringify({ bucketId: t.server.bucketIds[BUCKET], prefix, maxFileCount: 1000 }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { files: [] }).files;
  }

  before(async () => {
    const probe = spawnSync('rclone', ['version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) assert.fail('install rclone (apt-get install -y rclone)');
    t = await startTestServer();
    local = await mkdtemp(path.join(tmpdir(), 'strata-rclone-'));
    await mkdir(path.join(local, 'up'));
    await writeFile(path.join(local, 'up', 'small.txt'), small);
    await writeFile(path.join(local, 'up', 'big.bin'), big);
  });
  after(async () => {
    await t?.close();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('copies a small and a large file up (the large one in 5 MiB parts)', async () => {
    await rclone('copy', path.join(local, 'up'), remote('up'), '--b2-chunk-size', '5M', '--b2-upload-cutoff', '5M');
    const stored = await versions('up/');
    assert.deepEqual(stored.map((f) => [f.fileName, f.action]), [['up/big.bin', 'upload'], ['up/small.txt', 'upload']]);
    const bigFile = stored[0]!;
    // A B2 large file has no whole-file SHA1; rclone records it as large_file_sha1.
    assert.equal(bigFile.contentSha1, 'none');
    assert.equal(bigFile.fileInfo.large_file_sha1, sha1(big));
    assert.equal(stored[1]!.contentSha1, sha1(small));
  });

  it('lists with lsf and lsjson (sizes and SHA-1)', async () => {
    assert.deepEqual(lines(await rclone('lsf', '-R', remote())), ['up/', 'up/big.bin', 'up/small.txt']);
    const json = JSON.parse(await rclone('lsjson', '--hash', remote('up'))) as { Name: string; Size: number; Hashes?: { sha1?: string } }[];
    const byName = Object.fromEntries(json.map((e) => [e.Name, e]));
    assert.equal(byName['small.txt']?.Size, small.length);
    assert.equal(byName['big.bin']?.Size, big.length);
    assert.equal(byName['small.txt']?.Hashes?.sha1, sha1(small));
    assert.equal(byName['big.bin']?.Hashes?.sha1, sha1(big));
  });

  it('reads the files back byte for byte (cat, copy, check)', async () => {
    assert.equal(await rclone('cat', remote('up/small.txt')), small.toString('latin1'));
    const back = path.join(local, 'back');
    await rclone('copy', remote('up'), back);
    assert.ok((await readFile(path.join(back, 'small.txt'))).equals(small));
    assert.ok((await readFile(path.join(back, 'big.bin'))).equals(big));
    await rclone('check', path.join(local, 'up'), remote('up'));
    // A ranged read inside the second part.
    const part = await rclone('cat', '--offset', '6000000', '--count', '100', remote('up/big.bin'));
    assert.ok(Buffer.from(part, 'latin1').equals(big.subarray(6_000_000, 6_000_100)));
  });

  it('keeps versions, hides on deletefile and removes old versions on cleanup', async () => {
    await writeFile(path.join(local, 'small-v2.txt'), 'second version\n');
    await rclone('copyto', path.join(local, 'small-v2.txt'), remote('up/small.txt'));
    assert.equal(await rclone('cat', remote('up/small.txt')), 'second version\n');
    const withVersions = lines(await rclone('lsf', '--b2-versions', remote('up')));
    assert.equal(withVersions.length, 3, withVersions.join(', '));
    assert.ok(withVersions.includes('small.txt'));
    assert.ok(withVersions.some((n) => /^small-v\d{4}-\d\d-\d\d-\d{6}-\d{3}\.txt$/.test(n)), withVersions.join(', '));

    await rclone('deletefile', remote('up/small.txt'));
    assert.deepEqual(lines(await rclone('lsf', remote('up'))), ['big.bin']);
    assert.deepEqual((await versions('up/small.txt')).map((f) => f.action), ['hide', 'upload', 'upload']);
    assert.equal(lines(await rclone('lsf', '--b2-versions', remote('up'))).length, 3);

    await rclone('cleanup', remote());
    assert.deepEqual(await versions('up/small.txt'), []);
    assert.deepEqual(lines(await rclone('lsf', '--b2-versions', remote('up'))), ['big.bin']);
  });

  it('retries through injected 503s', async () => {
    t.server.failNextUploads(2);
    await writeFile(path.join(local, 'retry.txt'), 'retried\n');
    await rclone('copyto', path.join(local, 'retry.txt'), remote('retry.txt'));
    assert.equal(await rclone('cat', remote('retry.txt')), 'retried\n');
    const hooks = await fetch(`${t.server.url}/__strata/state`, { headers: { Authorization: basicAuth() } });
    assert.equal(((await hooks.json()) as { pendingUploadFailures: number }).pendingUploadFailures, 0, 'both 503s were answered');
  });

  it('creates a bucket, survives duplicate_bucket_name, and removes it', async () => {
    await rclone('mkdir', `${REMOTE}:strata-made-by-rclone`);
    await rclone('mkdir', `${REMOTE}:strata-made-by-rclone`);
    assert.ok(lines(await rclone('lsd', `${REMOTE}:`)).some((l) => l.endsWith(' strata-made-by-rclone')));
    await rclone('rmdir', `${REMOTE}:strata-made-by-rclone`);
    assert.ok(!lines(await rclone('lsd', `${REMOTE}:`)).some((l) => l.endsWith(' strata-made-by-rclone')));
  });
});
