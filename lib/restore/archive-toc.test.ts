// DataBlockIndex: where each data block of a custom-format archive starts, found while the data area is
// copied (an archive written to a pipe has no offsets in its TOC). Pure: synthetic data areas.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { DataBlockIndex } from './archive-toc.ts';

const int = (v: number, size = 4) => {
  const b = Buffer.alloc(1 + size);
  b[0] = v < 0 ? 1 : 0;
  b.writeUIntLE(Math.abs(v), 1, size);
  return b;
};
/** A data block: type 1, the dump id, the chunks, a zero length. */
const block = (id: number, chunks: string[], type = 1) =>
  Buffer.concat([Buffer.from([type]), int(id), ...chunks.flatMap((c) => [int(c.length), Buffer.from(c)]), int(0)]);

async function index(area: Buffer, pieceSize: number, base = 1000n) {
  const idx = new DataBlockIndex(4, base);
  const pieces = Array.from({ length: Math.ceil(area.length / pieceSize) }, (_, i) => area.subarray(i * pieceSize, (i + 1) * pieceSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), idx, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  assert.deepEqual(Buffer.concat(out), area, 'passed through unchanged');
  return idx;
}

describe('DataBlockIndex', () => {
  const blocks = [block(7, ['1\ta\n', '2\tb\n']), block(9, []), block(12, ['x'.repeat(300)])];
  const area = Buffer.concat(blocks);
  const expected = new Map([
    [7, 1000n],
    [9, 1000n + BigInt(blocks[0]!.length)],
    [12, 1000n + BigInt(blocks[0]!.length + blocks[1]!.length)],
  ]);

  it('finds every block’s start, however the stream is cut', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, area.length]) {
      const idx = await index(area, size);
      assert.equal(idx.failed, false, `pieces of ${size}`);
      assert.deepEqual(idx.starts, expected, `pieces of ${size}`);
    }
  });

  it('gives up on what it does not know: a large-object block, a truncated area, a repeated id', async () => {
    assert.equal((await index(Buffer.concat([blocks[0]!, block(8, ['x'], 3)]), 16)).failed, true);
    assert.equal((await index(area.subarray(0, area.length - 2), 16)).failed, true);
    assert.equal((await index(Buffer.concat([blocks[0]!, blocks[0]!]), 16)).failed, true);
  });
});
