// b2_list_file_names (newest visible version per name) and b2_list_file_versions (every version),
// both in B2 order with startFileName/startFileId paging, prefix and optional delimiter "folders".
import type { Call } from '../context.ts';
import { badRequest } from '../errors.ts';
import { fileJson, folderJson } from '../file-json.ts';
import type { Params } from '../http.ts';
import { compareNames, type Store } from '../store.ts';
import type { FileRecord } from '../store-types.ts';
import { bucketOrThrow } from './common.ts';

type Entry = { kind: 'file'; record: FileRecord } | { kind: 'folder'; name: string };

/** The newest upload-or-hide version decides whether a name is visible; unfinished large files don't count. */
export function visibleVersion(store: Store, bucketId: string, fileName: string): FileRecord | undefined {
  const newest = store.versions(bucketId, fileName).find((v) => v.action !== 'start');
  return newest?.action === 'upload' ? newest : undefined;
}

interface Query {
  bucketId: string;
  prefix: string;
  startFileName: string;
  delimiter: string | undefined;
  /** The versions of a name this listing shows, in order. */
  recordsOf: (name: string) => FileRecord[];
}

function* entries(store: Store, q: Query): Generator<Entry> {
  let lastFolder: string | undefined;
  for (const name of store.sortedNames(q.bucketId)) {
    if (!name.startsWith(q.prefix) || compareNames(name, q.startFileName) < 0) continue;
    const records = q.recordsOf(name);
    if (records.length === 0) continue;
    if (q.delimiter) {
      const at = name.indexOf(q.delimiter, q.prefix.length);
      if (at >= 0) {
        const folder = name.slice(0, at + q.delimiter.length);
        if (folder !== lastFolder) yield { kind: 'folder', name: folder };
        lastFolder = folder;
        continue;
      }
    }
    for (const record of records) yield { kind: 'file', record };
  }
}

function query(call: Call, p: Params, recordsOf: (store: Store, bucketId: string, name: string) => FileRecord[]): Query & { max: number } {
  const { store } = call.state;
  const bucket = bucketOrThrow(store, p.string('bucketId'));
  const delimiter = p.optionalString('delimiter') || undefined;
  if (delimiter !== undefined && [...delimiter].length !== 1) throw badRequest('delimiter must be a single character');
  return {
    bucketId: bucket.bucketId,
    prefix: p.optionalString('prefix') ?? '',
    startFileName: p.optionalString('startFileName') ?? '',
    delimiter,
    max: p.optionalInt('maxFileCount', 1, 10000) ?? 100,
    recordsOf: (name) => recordsOf(store, bucket.bucketId, name),
  };
}

export function listFileNames(call: Call, p: Params): Record<string, unknown> {
  const { store } = call.state;
  const q = query(call, p, (s, bucketId, name) => {
    const v = visibleVersion(s, bucketId, name);
    return v ? [v] : [];
  });
  const files: Record<string, unknown>[] = [];
  let nextFileName: string | null = null;
  for (const entry of entries(store, q)) {
    const name = entry.kind === 'file' ? entry.record.fileName : entry.name;
    if (files.length === q.max) {
      nextFileName = name;
      break;
    }
    files.push(entry.kind === 'file' ? fileJson(store, entry.record, call.version) : folderJson(store, q.bucketId, entry.name, call.version));
  }
  return { files, nextFileName };
}

export function listFileVersions(call: Call, p: Params): Record<string, unknown> {
  const { store } = call.state;
  const startFileId = p.optionalString('startFileId');
  const q = query(call, p, (s, bucketId, name) => s.versions(bucketId, name));
  if (startFileId && !p.optionalString('startFileName')) throw badRequest('startFileId needs startFileName');
  // Versions of startFileName newer than startFileId were on an earlier page.
  const start = startFileId ? store.file(startFileId) : undefined;
  const skip = (r: FileRecord): boolean => start !== undefined && r.fileName === q.startFileName && r.seq > start.seq;
  const files: Record<string, unknown>[] = [];
  let nextFileName: string | null = null;
  let nextFileId: string | null = null;
  for (const entry of entries(store, q)) {
    if (entry.kind === 'file' && skip(entry.record)) continue;
    if (files.length === q.max) {
      nextFileName = entry.kind === 'file' ? entry.record.fileName : entry.name;
      nextFileId = entry.kind === 'file' ? entry.record.fileId : null;
      break;
    }
    files.push(entry.kind === 'file' ? fileJson(store, entry.record, call.version) : folderJson(store, q.bucketId, entry.name, call.version));
  }
  return { files, nextFileName, nextFileId };
}
