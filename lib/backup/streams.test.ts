import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable, type PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashMeter, Tee } from './streams.ts';
import { readAll, sha256 } from './test-support.ts';

const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i % 251));

/** Reads a branch slowly, one chunk per tick. */
async function slowRead(branch: PassThrough): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of branch) {
    out.push(chunk as Buffer);
    await new Promise((r) => setImmediate(r));
  }
  return Buffer.concat(out);
}

describe('Tee', () => {
  it('gives every branch every byte, at the pace of the slowest, and ends only after beforeEnd', async () => {
    let ended = false;
    const tee = new Tee(2, async () => {
      await new Promise((r) => setTimeout(r, 20));
      ended = true;
    }, 64 * 1024);
    const data = chunks(200, 16 * 1024);
    const meter = new HashMeter();
    let maxBuffered = 0;
    const fast = readAll(tee.branches[0]!);
    const slow = slowRead(tee.branches[1]!);
    const watch = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, tee.branches[0]!.readableLength + tee.branches[1]!.readableLength + tee.writableLength);
    }, 1);
    await pipeline(Readable.from(data), meter, tee);
    clearInterval(watch);
    const [a, b] = await Promise.all([fast, slow]);
    assert.ok(ended);
    const expected = Buffer.concat(data);
    assert.equal(sha256(a), sha256(expected));
    assert.equal(sha256(b), sha256(expected));
    assert.equal(meter.bytes, expected.length);
    assert.equal(meter.digest(), sha256(expected));
    assert.ok(maxBuffered < 1024 * 1024, `buffered at most ${maxBuffered} bytes of 3.2 MB`);
  });

  it('fails the branches when beforeEnd rejects (a producer exited non-zero)', async () => {
    const tee = new Tee(2, () => Promise.reject(new Error('pg_dump exited with code 1')));
    const reads = tee.branches.map((b) => readAll(b));
    await assert.rejects(pipeline(Readable.from(chunks(3, 10)), tee), /pg_dump exited/);
    for (const r of reads) await assert.rejects(r, /pg_dump exited/);
  });

  it('stops when a branch is destroyed (an upload gave up)', async () => {
    const tee = new Tee(2, async () => {}, 1024);
    void readAll(tee.branches[0]!).catch(() => {});
    tee.branches[1]!.destroy(new Error('upload failed'));
    await assert.rejects(pipeline(Readable.from(chunks(100, 4096)), tee), /upload|stopped reading/);
  });
});
