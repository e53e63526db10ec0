// The emulator's state: buckets and file versions in memory, mirrored to `<dir>/meta.json`
// (rewritten atomically after every change), file contents under `<dir>/data`, large-file parts
// under `<dir>/parts/<fileId>` until the file is finished or cancelled.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BucketRecord, BucketType, FileRecord, MetaFile } from './store-types.ts';

const META = 'meta.json';

/** B2 orders names by their UTF-8 bytes, which is code-point order (JS `<` compares UTF-16 units). */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

export class Store {
  readonly accountId: string;
  /** Large files being finished right now: parts, a second finish or a cancel are refused meanwhile. */
  readonly finishing = new Set<string>();
  private readonly buckets = new Map<string, BucketRecord>();
  private readonly files = new Map<string, FileRecord>();
  /** bucketId → fileName → versions, newest first. */
  private readonly byName = new Map<string, Map<string, FileRecord[]>>();
  private nextSeq: number;
  private lastTimestamp: number;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    meta: MetaFile,
  ) {
    this.accountId = meta.accountId;
    this.nextSeq = meta.nextSeq;
    this.lastTimestamp = meta.lastTimestamp;
    for (const b of meta.buckets) this.buckets.set(b.bucketId, b);
    for (const f of [...meta.files].sort((a, b) => a.seq - b.seq)) this.index(f);
  }

  static async open(dir: string, keyId: string): Promise<Store> {
    await mkdir(path.join(dir, 'data'), { recursive: true });
    await mkdir(path.join(dir, 'parts'), { recursive: true });
    // Temp files of uploads interrupted by a stop are garbage.
    await rm(path.join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    let meta: MetaFile;
    try {
      meta = JSON.parse(await readFile(path.join(dir, META), 'utf8')) as MetaFile;
      if (meta.formatVersion !== 1) throw new Error(`${path.join(dir, META)}: unknown formatVersion ${String(meta.formatVersion)}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Real account ids are 12 hex digits; derive it from the key id so it is stable.
      const accountId = createHash('sha1').update(keyId).digest('hex').slice(0, 12);
      meta = { formatVersion: 1, accountId, nextSeq: 1, lastTimestamp: 0, buckets: [], files: [] };
    }
    const store = new Store(dir, meta);
    await store.persist();
    return store;
  }

  // ---- paths ----
  dataPath(fileId: string): string {
    return path.join(this.dir, 'data', fileId);
  }
  partsDir(fileId: string): string {
    return path.join(this.dir, 'parts', fileId);
  }
  partPath(fileId: string, partNumber: number): string {
    return path.join(this.partsDir(fileId), String(partNumber));
  }
  tmpPath(): string {
    return path.join(this.dir, 'tmp', `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }

  // ---- buckets ----
  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()].sort((a, b) => compareNames(a.bucketName, b.bucketName));
  }
  bucketById(bucketId: string): BucketRecord | undefined {
    return this.buckets.get(bucketId);
  }
  bucketByName(name: string): BucketRecord | undefined {
    for (const b of this.buckets.values()) if (b.bucketName === name) return b;
    return undefined;
  }
  createBucket(bucketName: string, bucketType: BucketType): BucketRecord {
    const bucket: BucketRecord = { bucketId: randomBytes(12).toString('hex'), bucketName, bucketType, revision: 1 };
    this.buckets.set(bucket.bucketId, bucket);
    this.byName.set(bucket.bucketId, new Map());
    return bucket;
  }
  deleteBucket(bucketId: string): void {
    this.buckets.delete(bucketId);
    this.byName.delete(bucketId);
  }
  bucketIsEmpty(bucketId: string): boolean {
    return (this.byName.get(bucketId)?.size ?? 0) === 0;
  }

  // ---- file versions ----
  /**
   * A new version record with a fresh id and an upload timestamp later than every earlier one.
   * Not visible until `add` (so its content can be moved into place first).
   */
  newRecord(fields: Omit<FileRecord, 'fileId' | 'seq' | 'uploadTimestamp'>): FileRecord {
    const seq = this.nextSeq++;
    // Strictly increasing, so versions named by timestamp (rclone --b2-versions) never collide.
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    const fileId = `4_z${fields.bucketId}_f${seq.toString(16).padStart(12, '0')}_d${this.lastTimestamp}_m${randomBytes(4).toString('hex')}`;
    return { ...fields, fileId, seq, uploadTimestamp: this.lastTimestamp };
  }
  add(record: FileRecord): void {
    this.index(record);
  }
  file(fileId: string): FileRecord | undefined {
    return this.files.get(fileId);
  }
  removeRecord(record: FileRecord): void {
    this.files.delete(record.fileId);
    const names = this.byName.get(record.bucketId);
    const versions = names?.get(record.fileName);
    if (!names || !versions) return;
    const rest = versions.filter((v) => v.fileId !== record.fileId);
    if (rest.length) names.set(record.fileName, rest);
    else names.delete(record.fileName);
  }
  /** Every version of a name, newest first. */
  versions(bucketId: string, fileName: string): FileRecord[] {
    return this.byName.get(bucketId)?.get(fileName) ?? [];
  }
  /** Names in the bucket in B2 order. */
  sortedNames(bucketId: string): string[] {
    return [...(this.byName.get(bucketId)?.keys() ?? [])].sort(compareNames);
  }
  unfinished(bucketId: string): FileRecord[] {
    return [...this.files.values()].filter((f) => f.bucketId === bucketId && f.action === 'start').sort((a, b) => a.seq - b.seq);
  }

  private index(record: FileRecord): void {
    this.files.set(record.fileId, record);
    let names = this.byName.get(record.bucketId);
    if (!names) this.byName.set(record.bucketId, (names = new Map()));
    names.set(record.fileName, [record, ...(names.get(record.fileName) ?? [])]);
  }

  // ---- persistence ----
  /**
   * Writes a snapshot of the metadata (temp file + rename, so a crash leaves the old or the new
   * file, never half of one). Writes are chained, so the last snapshot taken is the last written.
   */
  persist(): Promise<void> {
    const meta: MetaFile = {
      formatVersion: 1,
      accountId: this.accountId,
      nextSeq: this.nextSeq,
      lastTimestamp: this.lastTimestamp,
      buckets: [...this.buckets.values()],
      files: [...this.files.values()],
    };
    const text = JSON.stringify(meta);
    const target = path.join(this.dir, META);
    const write = this.writing.then(async () => {
      const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, target);
    });
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Resolves when every write started so far is done. */
  flushed(): Promise<void> {
    return this.writing;
  }
}

export async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}
