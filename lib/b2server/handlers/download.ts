// b2_download_file_by_name (GET|HEAD /file/<bucket>/<name>) and b2_download_file_by_id, with
// single byte ranges. Private buckets need the account token, in the Authorization header or —
// as B2 allows for links — in the `Authorization` query parameter.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Call } from '../context.ts';
import { B2Error, badRequest, notFound } from '../errors.ts';
import { b2UrlEncode, header } from '../http.ts';
import type { BucketRecord, FileRecord } from '../store-types.ts';
import { visibleVersion } from './listing.ts';

/** File info names B2 turns into standard headers on download. */
const SPECIAL_INFO: Record<string, string> = {
  'b2-content-disposition': 'Content-Disposition',
  'b2-content-language': 'Content-Language',
  'b2-expires': 'Expires',
  'b2-cache-control': 'Cache-Control',
  'b2-content-encoding': 'Content-Encoding',
};

function checkReadAccess(call: Call, bucket: BucketRecord): void {
  if (bucket.bucketType === 'allPublic') return;
  call.state.tokens.checkAccount(header(call.req, 'authorization') ?? call.url.searchParams.get('Authorization') ?? undefined);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive [start, end]; undefined means the whole file. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw badRequest(`Invalid Range header: ${value}`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) throw new B2Error(416, 'range_not_satisfiable', `The range ${value} is not satisfiable for a file of ${size} bytes`);
  return { start, end };
}

async function send(call: Call, record: FileRecord): Promise<void> {
  const { req, res } = call;
  const size = record.contentLength;
  const range = size > 0 ? parseRange(header(req, 'range'), size) : undefined;
  const headers: Record<string, string | number> = {
    'Content-Type': record.contentType,
    'Content-Length': range ? range.end - range.start + 1 : size,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=0, no-cache, no-store',
    'x-bz-file-id': record.fileId,
    'x-bz-file-name': b2UrlEncode(record.fileName),
    'x-bz-content-sha1': record.contentSha1,
    'x-bz-upload-timestamp': String(record.uploadTimestamp),
  };
  for (const [key, value] of Object.entries(record.fileInfo)) {
    const special = SPECIAL_INFO[key.toLowerCase()];
    if (special) headers[special] = value;
    else headers[`X-Bz-Info-${key}`] = b2UrlEncode(value);
  }
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const stream = createReadStream(call.state.store.dataPath(record.fileId), range ?? {});
  await pipeline(stream, res).catch(() => res.destroy()); // a client hanging up mid-download is not our error
}

export async function downloadByName(call: Call, rest: string): Promise<void> {
  const { store } = call.state;
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) throw badRequest('Use /file/<bucketName>/<fileName>');
  let bucketName: string;
  let fileName: string;
  try {
    bucketName = decodeURIComponent(rest.slice(0, slash));
    fileName = decodeURIComponent(rest.slice(slash + 1));
  } catch {
    throw badRequest('The file name is not correctly percent-encoded');
  }
  const bucket = store.bucketByName(bucketName);
  if (!bucket) throw notFound(`Bucket ${bucketName} does not exist`);
  checkReadAccess(call, bucket);
  const record = visibleVersion(store, bucket.bucketId, fileName);
  if (!record) throw notFound(`File with such name does not exist: ${fileName}`);
  await send(call, record);
}

export async function downloadById(call: Call): Promise<void> {
  const { store } = call.state;
  const fileId = call.url.searchParams.get('fileId');
  if (!fileId) throw badRequest('required field fileId is missing');
  const record = store.file(fileId);
  const bucket = record && store.bucketById(record.bucketId);
  if (!record || !bucket) throw notFound(`File with such id does not exist: ${fileId}`);
  checkReadAccess(call, bucket);
  if (record.action !== 'upload') throw notFound(`File with such id does not exist: ${fileId}`);
  await send(call, record);
}
