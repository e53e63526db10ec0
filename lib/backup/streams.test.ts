import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable, type PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashMeter, RateLimit, Tee } from './streams.ts';
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

describe('RateLimit', () => {
  /** A clock that only moves when the limiter sleeps or the test says so. */
  function fakeClock() {
    const clock = { t: 0, sleeps: [] as number[], now: () => clock.t, sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    } };
    return clock;
  }

  it('passes every byte unchanged and holds the stream to the rate', async () => {
    const clock = fakeClock();
    const input = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const chunks = Array.from({ length: 10 }, (_, i) => input.subarray(i * 1000, (i + 1) * 1000));
    const out = await readAll(Readable.from(chunks).pipe(new RateLimit(5000, clock)));
    assert.deepEqual(out, input);
    // 10,000 bytes at 5,000 B/s: the last byte is due at 2 s, each chunk 200 ms after the one before.
    assert.equal(clock.t, 2000);
    assert.deepEqual(clock.sleeps, Array(10).fill(200));
  });

  it('lets a slow producer keep at most one second of unused allowance', async () => {
    const clock = fakeClock();
    const limit = new RateLimit(1000, clock);
    const out: Buffer[] = [];
    limit.on('data', (c: Buffer) => out.push(c));
    const write = (n: number) => new Promise<void>((resolve, reject) => limit.write(Buffer.alloc(n), (err) => (err ? reject(err) : resolve())));
    await write(100); // due at 100 ms
    clock.t += 10_000; // the producer stalls for 10 s
    await write(1000); // within the one second of allowance: no wait
    assert.equal(clock.sleeps.length, 1);
    await write(500); // beyond it: waits the full 500 ms
    assert.deepEqual(clock.sleeps, [100, 500]);
    assert.equal(Buffer.concat(out).length, 1600);
  });

  it('refuses a rate that is not positive', () => {
    assert.throws(() => new RateLimit(0), RangeError);
  });
});
