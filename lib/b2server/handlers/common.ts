// Checks shared by several calls.
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { badRequest } from '../errors.ts';
import { b2UrlDecode } from '../http.ts';
import type { Store } from '../store.ts';
import type { BucketRecord } from '../store-types.ts';

const MAX_FILE_INFO = 10;

export function bucketOrThrow(store: Store, bucketId: string): BucketRecord {
  const bucket = store.bucketById(bucketId);
  if (!bucket) throw badRequest(`Invalid bucketId: ${bucketId}`);
  return bucket;
}

/** B2 file names: 1–1024 bytes of UTF-8, no control characters. */
export function checkFileName(name: string): void {
  if (name.length === 0) throw badRequest('File name is empty');
  if (Buffer.byteLength(name) > 1024) throw badRequest('File names must be at most 1024 bytes');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badRequest('File names must not contain control characters');
}

export function checkFileInfo(info: Record<string, string>): Record<string, string> {
  if (Object.keys(info).length > MAX_FILE_INFO) throw badRequest(`At most ${MAX_FILE_INFO} file info entries are allowed`);
  for (const key of Object.keys(info)) {
    if (!/^[A-Za-z0-9_-]{1,50}$/.test(key)) throw badRequest(`Invalid file info name ${JSON.stringify(key)}`);
  }
  return info;
}

/** The `X-Bz-Info-*` headers of an upload, decoded. */
export function fileInfoFromHeaders(req: IncomingMessage): Record<string, string> {
  const info: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-bz-info-') || value === undefined) continue;
    const v = Array.isArray(value) ? value[0]! : value;
    info[name.slice('x-bz-info-'.length)] = b2UrlDecode(v, `header ${name}`);
  }
  return checkFileInfo(info);
}

const MIME_BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain', '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.csv': 'text/csv',
  '.js': 'application/javascript', '.json': 'application/json', '.xml': 'application/xml', '.pdf': 'application/pdf',
  '.zip': 'application/zip', '.gz': 'application/gzip', '.tar': 'application/x-tar', '.zst': 'application/zstd',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
};

/** `b2/x-auto` asks B2 to pick the type from the file name's extension. */
export function resolveContentType(contentType: string | undefined, fileName: string): string {
  if (contentType && contentType !== 'b2/x-auto') return contentType;
  return MIME_BY_EXTENSION[path.extname(fileName).toLowerCase()] ?? 'application/octet-stream';
}
