// Reading and rewriting the table of contents of a pg_dump custom-format archive (-Fc), the layout of
// PostgreSQL's pg_backup_archiver.c (WriteHead, WriteToc) and pg_backup_custom.c (_WriteExtraToc):
// a header, the TOC entries (strings and integers in the archive's own sizes), then the data blocks,
// which the TOC points at by absolute file offset. Rewriting a TOC copies the data blocks verbatim
// (streamed) and shifts those offsets by the change in the TOC's length. An archive pg_dump wrote to a
// pipe (every Strata backup) has no offsets at all, and then every `pg_restore -L` that takes a few of
// its tables reads past the others' data to find its own; the rewrite therefore records where each
// data block starts as it copies them, and writes those offsets into the new TOC.
import fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidDumpError } from './errors.ts';

export interface TocEntry {
  dumpId: number;
  hadDumper: number;
  tableoid: string | null;
  oid: string | null;
  tag: string | null;
  desc: string | null;
  section: number;
  defn: string | null;
  dropStmt: string | null;
  copyStmt: string | null;
  namespace: string | null;
  tablespace: string | null;
  tableam: string | null;
  /** Archive version 1.16 (PostgreSQL 17) and later. */
  relkind?: number;
  owner: string | null;
  withOids: string | null;
  deps: string[];
  /** Custom format: data state (1 not set, 2 set, 3 no data) and offset. */
  dataState: number;
  dataOffset: bigint;
}

export interface ArchiveToc {
  version: [number, number, number];
  intSize: number;
  offSize: number;
  /** Header bytes, copied unchanged. */
  header: Buffer;
  entries: TocEntry[];
  /** Where the TOC ends and the data blocks begin, in the original file. */
  tocEnd: number;
}

// Archive versions this reader knows: 1.12 (PG 10) … 1.16 (PG 17).
const MIN_VERSION = 12;
const MAX_VERSION = 16;
const K_OFFSET_POS_SET = 2;
const K_OFFSET_NO_DATA = 3;
const BLK_DATA = 1;

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    public intSize = 4,
    public offSize = 8,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('short');
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  int(): number {
    const sign = this.byte();
    this.need(this.intSize);
    let v = 0;
    for (let i = 0; i < this.intSize; i++) v += this.buf[this.pos + i]! * 2 ** (8 * i);
    this.pos += this.intSize;
    return sign ? -v : v;
  }
  str(): string | null {
    const len = this.int();
    if (len < 0) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  offset(): { state: number; value: bigint } {
    const state = this.byte();
    this.need(this.offSize);
    let v = 0n;
    for (let i = 0; i < this.offSize; i++) v |= BigInt(this.buf[this.pos + i]!) << BigInt(8 * i);
    this.pos += this.offSize;
    return { state, value: v };
  }
}

/** Appends to one growing buffer (a TOC has tens of thousands of small fields). */
class Writer {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  constructor(
    private readonly intSize: number,
    private readonly offSize: number,
  ) {}
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  raw(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  int(v: number): void {
    this.room(1 + this.intSize);
    this.buf[this.length] = v < 0 ? 1 : 0;
    let a = Math.abs(v);
    for (let i = 0; i < this.intSize; i++) {
      this.buf[this.length + 1 + i] = a % 256;
      a = Math.floor(a / 256);
    }
    this.length += 1 + this.intSize;
  }
  str(s: string | null): void {
    if (s === null) return this.int(-1);
    const n = Buffer.byteLength(s, 'utf8');
    this.int(n);
    this.room(n);
    this.length += this.buf.write(s, this.length, 'utf8');
  }
  offset(state: number, value: bigint): void {
    this.room(1 + this.offSize);
    this.buf[this.length] = state;
    for (let i = 0; i < this.offSize; i++) this.buf[this.length + 1 + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    this.length += 1 + this.offSize;
  }
  buffer(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Reads the header and TOC of a custom-format archive (only the start of the file). */
export async function readArchiveToc(file: string): Promise<ArchiveToc> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    let size = Math.min(fileSize, 4 << 20);
    for (;;) {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, 0);
      try {
        return parseToc(buf.subarray(0, bytesRead));
      } catch (err) {
        // The TOC did not fit in what was read: read more, unless the file ended.
        if (err instanceof RangeError && bytesRead === size && size < fileSize) {
          size = Math.min(fileSize, size * 4);
          continue;
        }
        if (err instanceof InvalidDumpError) throw err;
        throw new InvalidDumpError(`${file} is not a readable pg_dump custom-format archive (${(err as Error).message})`);
      }
    }
  } finally {
    await fh.close();
  }
}

/** Parses the header and TOC at the start of an archive; RangeError when `buf` ends inside them. */
export function parseToc(buf: Buffer): ArchiveToc {
  if (buf.length < 5) throw new RangeError('short');
  if (buf.toString('latin1', 0, 5) !== 'PGDMP') throw new InvalidDumpError('not a pg_dump custom-format archive (no PGDMP magic)');
  const r = new Reader(buf);
  r.pos = 5;
  const version: [number, number, number] = [r.byte(), r.byte(), r.byte()];
  if (version[0] !== 1 || version[1] < MIN_VERSION || version[1] > MAX_VERSION) {
    throw new InvalidDumpError(`archive version ${version.join('.')} is not one this restore can rewrite`);
  }
  r.intSize = r.byte();
  r.offSize = r.byte();
  if (r.intSize < 1 || r.intSize > 8 || r.offSize < 1 || r.offSize > 8) throw new InvalidDumpError('archive header is corrupt (integer sizes)');
  const format = r.byte();
  if (format !== 1) throw new InvalidDumpError(`archive format ${format} is not pg_dump's custom format (-Fc)`);
  // Compression: an algorithm byte since 1.15, a level before.
  if (version[1] >= 15) r.byte();
  else r.int();
  for (let i = 0; i < 7; i++) r.int();
  r.str();
  r.str();
  r.str();
  const header = Buffer.from(buf.subarray(0, r.pos));
  const count = r.int();
  if (count < 0 || count > 10_000_000) throw new InvalidDumpError('archive TOC is corrupt (entry count)');
  const entries: TocEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e: Partial<TocEntry> = {};
    e.dumpId = r.int();
    if (e.dumpId <= 0) throw new InvalidDumpError('archive TOC is corrupt (entry id)');
    e.hadDumper = r.int();
    e.tableoid = r.str();
    e.oid = r.str();
    e.tag = r.str();
    e.desc = r.str();
    e.section = r.int();
    e.defn = r.str();
    e.dropStmt = r.str();
    e.copyStmt = r.str();
    e.namespace = r.str();
    e.tablespace = r.str();
    // The table access method since 1.14 (PostgreSQL 12).
    e.tableam = version[1] >= 14 ? r.str() : null;
    if (version[1] >= 16) e.relkind = r.int();
    e.owner = r.str();
    e.withOids = r.str();
    e.deps = [];
    for (let d = r.str(); d !== null; d = r.str()) e.deps.push(d);
    const off = r.offset();
    e.dataState = off.state;
    e.dataOffset = off.value;
    entries.push(e as TocEntry);
  }
  return { version, intSize: r.intSize, offSize: r.offSize, header, entries, tocEnd: r.pos };
}

function serializeToc(toc: ArchiveToc, entries: TocEntry[], shift: bigint): Buffer {
  const w = new Writer(toc.intSize, toc.offSize);
  w.raw(toc.header);
  w.int(entries.length);
  for (const e of entries) {
    w.int(e.dumpId);
    w.int(e.hadDumper);
    w.str(e.tableoid);
    w.str(e.oid);
    w.str(e.tag);
    w.str(e.desc);
    w.int(e.section);
    w.str(e.defn);
    w.str(e.dropStmt);
    w.str(e.copyStmt);
    w.str(e.namespace);
    w.str(e.tablespace);
    if (toc.version[1] >= 14) w.str(e.tableam);
    if (toc.version[1] >= 16) w.int(e.relkind ?? 0);
    w.str(e.owner);
    w.str(e.withOids);
    for (const d of e.deps) w.str(d);
    w.str(null);
    w.offset(e.dataState, e.dataState === K_OFFSET_POS_SET ? e.dataOffset + shift : e.dataOffset);
  }
  return w.buffer();
}

/**
 * Pass-through over an archive's data area (from the end of its TOC) that notes where each data block
 * starts, counted from `base`: a block is a type byte (1: table data), the entry's dump id, then chunks
 * (a length, that many bytes) up to a zero length. Anything else (large objects' blocks, a truncated
 * file) and the index is abandoned (`failed`): the offsets are then left as they were.
 */
export class DataBlockIndex extends Transform {
  readonly starts = new Map<number, bigint>();
  failed = false;
  private pos = 0n;
  private state: 'type' | 'id' | 'length' | 'skip' = 'type';
  private field: number[] = [];
  private skip = 0;
  private blockStart = 0n;

  constructor(
    private readonly intSize: number,
    private readonly base: bigint,
  ) {
    super();
  }

  /** Collects one archive integer (sign byte + intSize bytes); the value once complete, else null. */
  private intByte(b: number): number | null {
    this.field.push(b);
    if (this.field.length < 1 + this.intSize) return null;
    let v = 0;
    for (let i = 0; i < this.intSize; i++) v += this.field[1 + i]! * 2 ** (8 * i);
    const sign = this.field[0];
    this.field = [];
    return sign ? -v : v;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const whole = 1 + this.intSize;
    const n = chunk.length;
    let i = 0;
    while (i < n && !this.failed) {
      // The hot loop: pg_dump -Z0 writes a chunk per row (a length, the row), millions of them. Chunk
      // after chunk held wholly in this buffer, in locals; anything else goes the general way below.
      if (this.state === 'length' && this.field.length === 0) {
        while (i + whole <= n && chunk[i] === 0) {
          let v = 0;
          for (let k = this.intSize; k >= 1; k--) v = v * 256 + chunk[i + k]!;
          if (v === 0) break;
          i += whole + v;
        }
        if (i >= n) {
          // The last row runs on into the next buffer.
          if (i > n) {
            this.skip = i - n;
            this.state = 'skip';
          }
          i = n;
          continue;
        }
      }
      if (this.state === 'skip') {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip === 0) this.state = 'length';
        continue;
      }
      if (this.state === 'type') {
        if (chunk[i] !== BLK_DATA) this.failed = true;
        this.blockStart = this.pos + BigInt(i);
        this.state = 'id';
        i += 1;
        continue;
      }
      // An integer: read whole when the chunk holds all of it (pg_dump -Z0 writes a length before
      // every row: millions of them), else byte by byte across chunks.
      let value: number | null;
      if (this.field.length === 0 && i + whole <= chunk.length) {
        value = 0;
        for (let k = 0; k < this.intSize; k++) value += chunk[i + 1 + k]! * 2 ** (8 * k);
        if (chunk[i]) value = -value;
        i += whole;
      } else {
        value = this.intByte(chunk[i]!);
        i += 1;
        if (value === null) continue;
      }
      if (this.state === 'id') {
        if (value <= 0 || this.starts.has(value)) this.failed = true;
        this.starts.set(value, this.base + this.blockStart);
        this.state = 'length';
      } else if (value < 0) this.failed = true;
      else if (value === 0) this.state = 'type';
      else {
        this.skip = value;
        this.state = 'skip';
      }
    }
    this.pos += BigInt(chunk.length);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    // The file must end between blocks.
    if (this.state !== 'type' || this.field.length > 0) this.failed = true;
    callback();
  }
}

/**
 * Writes `outPath`: the archive at `inPath` with its TOC entries replaced by `entries` (same dump ids,
 * same order) and its data blocks copied unchanged, every entry with data pointing at its block.
 */
export async function writeArchiveWithToc(inPath: string, toc: ArchiveToc, entries: TocEntry[], outPath: string): Promise<void> {
  if (entries.length !== toc.entries.length) throw new Error('a rewritten TOC must keep every entry');
  const probe = serializeToc(toc, entries, 0n);
  const shift = BigInt(probe.length - toc.tocEnd);
  const head = shift === 0n ? probe : serializeToc(toc, entries, shift);
  const out = fs.createWriteStream(outPath, { flags: 'wx', mode: 0o600 });
  const done = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.write(head, (err) => (err ? reject(err) : resolve()));
  });
  await done;
  const index = new DataBlockIndex(toc.intSize, BigInt(head.length));
  await pipeline(fs.createReadStream(inPath, { start: toc.tocEnd, highWaterMark: 1 << 20 }), index, out);
  if (index.failed) return;
  // Offsets have a fixed size: the TOC with the blocks' offsets is exactly as long, written over the first.
  const located = entries.map((e) => {
    const start = index.starts.get(e.dumpId);
    if (start === undefined || e.dataState === K_OFFSET_NO_DATA) {
      return e.dataState === K_OFFSET_POS_SET ? { ...e, dataOffset: e.dataOffset + shift } : e;
    }
    return { ...e, dataState: K_OFFSET_POS_SET, dataOffset: start };
  });
  const final = serializeToc(toc, located, 0n);
  if (final.length !== head.length) throw new Error('the TOC changed length when its offsets were set');
  const fh = await fs.promises.open(outPath, 'r+');
  try {
    await fh.write(final, 0, final.length, 0);
  } finally {
    await fh.close();
  }
}
