import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { PartReader } from './part-reader.ts';

const MB = 1024 * 1024;
/** A stream of `body` in chunks of `chunk` bytes, like a pipe gives them. */
const chunked = (body: Buffer, chunk: number) =>
  Readable.from((function* () {
    for (let i = 0; i < body.length; i += chunk) yield body.subarray(i, i + chunk);
  })());

async function readAll(reader: PartReader): Promise<Buffer[]> {
  const copies: Buffer[] = [];
  for (;;) {
    const part = await reader.read();
    if (part.length === 0) return copies;
    copies.push(Buffer.from(part));
  }
}

describe('PartReader', () => {
  it('cuts a stream into full parts and a short last one, byte for byte', async () => {
    const body = randomBytes(5 * MB + 12345);
    const reader = new PartReader(chunked(body, 65536 + 7), 2 * MB);
    const parts = await readAll(reader);
    assert.deepEqual(parts.map((p) => p.length), [2 * MB, 2 * MB, MB + 12345]);
    assert.ok(Buffer.concat(parts).equals(body));
    assert.equal(reader.bytesRead, body.length);
  });

  it('reuses two part buffers: part n + 2 is read into the memory of part n', async () => {
    const reader = new PartReader(chunked(randomBytes(6 * MB), 65536), 2 * MB);
    const [a, b, c] = [await reader.read(), await reader.read(), await reader.read()];
    assert.notEqual(a.buffer, b.buffer, 'the part being sent and the part filling are apart');
    assert.equal(a.buffer, c.buffer, 'the third part fills the first part’s buffer');
    assert.ok(a.equals(c));
  });

  it('gives a small body as its own exact buffer, and nothing after it', async () => {
    const body = Buffer.from('{"manifest":true}');
    const reader = new PartReader(chunked(body, 4), 16 * MB);
    const first = await reader.read();
    assert.ok(first.equals(body));
    assert.ok(first.buffer.byteLength < MB, 'no part-sized buffer for a small body');
    assert.equal(await reader.atEnd(), true);
    assert.equal((await reader.read()).length, 0);
  });

  it('slices a Buffer body without copying', async () => {
    const body = randomBytes(3 * MB);
    const reader = new PartReader(body, 2 * MB);
    const first = await reader.read();
    assert.equal(first.buffer, body.buffer);
    assert.equal(await reader.atEnd(), false);
    assert.equal((await reader.read()).length, MB);
    assert.equal(await reader.atEnd(), true);
  });
});
