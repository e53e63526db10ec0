import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Chunker, chunkStream, cutPoint, cutPoints, DEFAULT_CHUNKER_OPTIONS, GEAR, GEAR_LAG, type ChunkerOptions } from './cdc.ts';

const SMALL: ChunkerOptions = { minSize: 64, avgSize: 256, maxSize: 1024 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes: the AES-256-CTR keystream under a key derived from `seed`. */
function randomBytes(length: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Every chunk a Chunker produces for `data` fed in pieces cut at `splits`. */
function chunkInPieces(data: Buffer, splits: number[], opts: Partial<ChunkerOptions>): Buffer[] {
  const c = new Chunker(opts);
  const out: Buffer[] = [];
  let prev = 0;
  for (const s of [...splits].sort((a, b) => a - b).concat(data.length)) {
    out.push(...c.push(data.subarray(prev, s)));
    prev = s;
  }
  const tail = c.finish();
  if (tail) out.push(tail);
  return out;
}

const sizesOf = (cuts: number[]) => cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));

/** The cut rule written as plainly as possible, byte by byte, from the header comment of cdc.ts. */
function referenceCuts(data: Uint8Array, { minSize, avgSize, maxSize }: ChunkerOptions): number[] {
  const bits = Math.log2(avgSize);
  const top = (b: number) => (~0 << (32 - b)) | 0;
  const cuts: number[] = [];
  let start = 0;
  while (start < data.length) {
    const end = Math.min(start + maxSize, data.length);
    let cut = end;
    let h = 0;
    for (let i = start + minSize; i < end; i++) {
      h = ((h << 1) + GEAR[data[i]!]! + GEAR_LAG[data[i - 32]!]!) | 0;
      if ((h & (i - start < avgSize ? top(bits + 2) : top(bits - 2))) === 0) {
        cut = i + 1;
        break;
      }
    }
    cuts.push(cut);
    start = cut;
  }
  return cuts;
}

describe('content-defined chunking', () => {
  it('gives back the input, in chunks within [min, max] but the last, the same every time', () => {
    for (const [data, opts] of [
      [randomBytes(3 << 20, 'bounds-small'), SMALL],
      [randomBytes(3 << 20, 'bounds-mid'), { minSize: 4096, avgSize: 16384, maxSize: 65536 }],
      [randomBytes(24 << 20, 'bounds-default'), DEFAULT_CHUNKER_OPTIONS],
    ] as const) {
      const chunks = chunkInPieces(data, [], opts);
      assert.ok(chunks.length > 3, `${chunks.length} chunks`);
      assert.equal(sha256(Buffer.concat(chunks)), sha256(data));
      for (const [i, c] of chunks.entries()) {
        if (i < chunks.length - 1) assert.ok(c.length >= opts.minSize && c.length <= opts.maxSize, `chunk ${i} of ${c.length} bytes`);
        else assert.ok(c.length > 0 && c.length <= opts.maxSize);
      }
      const again = chunkInPieces(data, [], opts);
      assert.deepEqual(again.map(sha256), chunks.map(sha256));
      assert.deepEqual(sizesOf(cutPoints(data, opts)), chunks.map((c) => c.length));
    }
  });

  it('cuts where the plain byte-by-byte rule says (unrolled loop, phases, lagged bytes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 6000, size: 'max' }),
        fc.constantFrom<ChunkerOptions>(SMALL, { minSize: 100, avgSize: 128, maxSize: 130 }, { minSize: 64, avgSize: 512, maxSize: 4096 }),
        fc.boolean(),
        (bytes, opts, lowEntropy) => {
          // Low-entropy inputs (few distinct bytes) exercise max-size cuts and the easy mask.
          const data = Buffer.from(lowEntropy ? bytes.map((b) => b & 3) : bytes);
          assert.deepEqual(cutPoints(data, opts), referenceCuts(data, opts));
        },
      ),
      // endOnFailure: shrinking 6-12 KB arrays can take minutes; the seed printed on failure replays it.
      { numRuns: 300, endOnFailure: true },
    );
    const data = randomBytes(8 << 20, 'reference-default');
    assert.deepEqual(cutPoints(data), referenceCuts(data, DEFAULT_CHUNKER_OPTIONS));
  });

  it('cuts identically however the input is split into push() calls', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 12000, size: 'max' }).chain((bytes) =>
          fc.tuple(fc.constant(bytes), fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40, size: 'max' }), fc.boolean()),
        ),
        ([bytes, splits, lowEntropy]) => {
          const data = Buffer.from(lowEntropy ? bytes.map((b) => b & 1) : bytes);
          const whole = chunkInPieces(data, [], SMALL);
          const pieces = chunkInPieces(data, splits, SMALL);
          assert.deepEqual(pieces.map(sha256), whole.map(sha256));
          assert.deepEqual(sizesOf(cutPoints(data, SMALL)), whole.map((c) => c.length));
          assert.equal(Buffer.concat(pieces).equals(data), true);
        },
      ),
      // endOnFailure: shrinking 6-12 KB arrays can take minutes; the seed printed on failure replays it.
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('one byte at a time and through chunkStream gives the same chunks as one push', async () => {
    const data = randomBytes(200_000, 'bytewise');
    const whole = chunkInPieces(data, [], SMALL).map(sha256);
    assert.deepEqual(chunkInPieces(data, Array.from({ length: data.length }, (_, i) => i), SMALL).map(sha256), whole);
    async function* source() {
      for (let i = 0; i < data.length; i += 777) yield data.subarray(i, i + 777);
    }
    const streamed: string[] = [];
    for await (const c of chunkStream(source(), SMALL)) streamed.push(sha256(c));
    assert.deepEqual(streamed, whole);
  });

  it('returns chunks the caller can keep while it reuses its input buffer', () => {
    const data = randomBytes(64_000, 'keep');
    const expected = chunkInPieces(data, [], SMALL).map(sha256);
    const c = new Chunker(SMALL);
    const reused = Buffer.alloc(1000);
    const kept: Buffer[] = [];
    for (let i = 0; i < data.length; i += 1000) {
      data.copy(reused, 0, i, i + 1000);
      kept.push(...c.push(reused));
      reused.fill(0xaa); // the caller scribbles over its buffer
    }
    kept.push(c.finish()!);
    assert.deepEqual(kept.map(sha256), expected);
  });

  it('finish() returns null when nothing is pending, and the chunker can be reused', () => {
    const c = new Chunker(SMALL);
    assert.equal(c.finish(), null);
    assert.deepEqual(c.push(Buffer.alloc(0)), []);
    assert.deepEqual(c.push(Buffer.alloc(10, 1)), []);
    assert.deepEqual(c.finish(), Buffer.alloc(10, 1));
    assert.equal(c.finish(), null);
    const data = randomBytes(10_000, 'reuse');
    const first = [...c.push(data), c.finish()].filter((b) => b !== null).map(sha256);
    assert.deepEqual(first, chunkInPieces(data, [], SMALL).map(sha256));
  });

  it('cuts constant data at max size, into identical chunks', () => {
    const chunks = chunkInPieces(Buffer.alloc(10_000), [], SMALL);
    assert.ok(chunks.length >= 9);
    for (const ch of chunks.slice(0, -1)) assert.equal(ch.length, SMALL.maxSize);
    assert.equal(new Set(chunks.slice(0, -1).map(sha256)).size, 1);
  });

  it('cutPoint finds the first boundary, or the end of the data when there is none', () => {
    const data = randomBytes(50_000, 'cutpoint');
    const cuts = cutPoints(data, SMALL);
    assert.equal(cutPoint(data, 0, data.length, SMALL), cuts[0]);
    assert.equal(cutPoint(data, cuts[0]!, data.length, SMALL), cuts[1]);
    assert.equal(cutPoint(data, 0, 50, SMALL), 50);
    assert.throws(() => cutPoint(data, 10, 5, SMALL), RangeError);
  });

  it('keeps boundaries put around an insertion and a deletion (default sizes)', () => {
    // 64 MiB, not 16: with ~1.2 MB chunks the two edited chunks alone are ~15% of 16 MiB.
    const original = randomBytes(64 << 20, 'locality');
    const mid = original.length >> 1;
    const edited = Buffer.concat([
      original.subarray(0, 1000),
      randomBytes(100, 'inserted'),
      original.subarray(1000, mid),
      original.subarray(mid + 50),
    ]);
    const before = new Set(chunkInPieces(original, [], {}).map(sha256));
    const after = chunkInPieces(edited, [], {});
    const fresh = after.filter((c) => !before.has(sha256(c)));
    const shared = 1 - fresh.reduce((s, c) => s + c.length, 0) / edited.length;
    assert.ok(shared >= 0.9, `shared ${(shared * 100).toFixed(1)}% of bytes`);
    assert.ok(fresh.length >= 1 && fresh.length <= 4, `${fresh.length} new chunks of ${after.length}`);
  });

  it('averages within 30% of avgSize on random data', () => {
    for (const [opts, mib] of [
      [DEFAULT_CHUNKER_OPTIONS, 64],
      [{ minSize: 4096, avgSize: 16384, maxSize: 65536 }, 16],
      [SMALL, 2],
    ] as const) {
      const cuts = cutPoints(randomBytes(mib << 20, `mean-${opts.avgSize}`), opts);
      const mean = (mib << 20) / cuts.length;
      assert.ok(Math.abs(mean / opts.avgSize - 1) <= 0.3, `mean ${mean.toFixed(0)} for avg ${opts.avgSize}`);
    }
  });

  it('has frozen boundaries (changing the tables or masks breaks dedup against older backups)', () => {
    // If this fails, the gear tables, hash step, masks or defaults changed: every chunk of the next
    // backup will differ from the stored ones. Bump the seed version on purpose and update this.
    const tables = createHash('sha256').update(Buffer.from(GEAR.buffer)).update(Buffer.from(GEAR_LAG.buffer)).digest('hex');
    assert.equal(tables.slice(0, 16), '8fcc259dc847f428');
    assert.deepEqual(cutPoints(randomBytes(8 << 20, 'golden')), [364700, 1718748, 2817841, 4335876, 5419912, 6137546, 7500941, 8388608]);
    assert.deepEqual(
      cutPoints(randomBytes(4000, 'golden-small'), SMALL),
      [509, 745, 1059, 1169, 1453, 1719, 1976, 2306, 2491, 2869, 2945, 3185, 3470, 3803, 3879, 4000],
    );
  });

  it('rejects bad options with a RangeError', () => {
    const bad: Partial<ChunkerOptions>[] = [
      { minSize: 64, avgSize: 300, maxSize: 1024 }, // avg not a power of two
      { minSize: 256, avgSize: 256, maxSize: 1024 }, // min not below avg
      { minSize: 64, avgSize: 256, maxSize: 256 }, // max not above avg
      { minSize: 32, avgSize: 256, maxSize: 1024 }, // min below the hash window
      { minSize: -1 },
      { minSize: 1024.5 },
      { avgSize: Number.NaN },
      { maxSize: Infinity },
      { avgSize: 1 << 29, maxSize: 1 << 30 },
      { maxSize: 2 ** 31 },
      { minSize: '64' as unknown as number },
    ];
    for (const opts of bad) {
      assert.throws(() => new Chunker(opts), RangeError, JSON.stringify(opts));
      assert.throws(() => cutPoints(Buffer.alloc(10), opts), RangeError);
    }
    assert.throws(() => new Chunker({ avgSize: 3 << 20 }), /power of two/);
    assert.doesNotThrow(() => new Chunker({ minSize: 100, avgSize: 4096, maxSize: 5000 }));
  });
});
