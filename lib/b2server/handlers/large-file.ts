// Large files: b2_start_large_file → b2_get_upload_part_url → b2_upload_part (each part on disk)
// → b2_finish_large_file (parts concatenated by streaming into one file) or b2_cancel_large_file.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { Call } from '../context.ts';
import { badRequest, serviceUnavailable } from '../errors.ts';
import { fileJson } from '../file-json.ts';
import { header, type Params } from '../http.ts';
import { contentLengthOf, receiveBody, sha1ModeOf } from '../receive.ts';
import { removeQuietly, type Store } from '../store.ts';
import type { FileRecord } from '../store-types.ts';
import { ABSOLUTE_MINIMUM_PART_SIZE } from './account.ts';
import { bucketOrThrow, checkFileInfo, checkFileName, resolveContentType } from './common.ts';

const MAX_PART_NUMBER = 10000;

function unfinishedOrThrow(store: Store, fileId: string): FileRecord {
  const record = store.file(fileId);
  if (!record || record.action !== 'start' || store.finishing.has(fileId)) throw badRequest(`No active upload for: ${fileId}`);
  return record;
}

export async function startLargeFile(call: Call, p: Params): Promise<Record<string, unknown>> {
  const { store } = call.state;
  const bucket = bucketOrThrow(store, p.string('bucketId'));
  const fileName = p.string('fileName');
  checkFileName(fileName);
  const contentType = resolveContentType(p.string('contentType'), fileName);
  const fileInfo = checkFileInfo(p.optionalStringMap('fileInfo') ?? {});
  const record = store.newRecord({ bucketId: bucket.bucketId, fileName, action: 'start', contentLength: 0, contentSha1: 'none', contentType, fileInfo, parts: {} });
  store.add(record);
  await store.persist();
  return fileJson(store, record, call.version);
}

export function getUploadPartUrl(call: Call, p: Params): Record<string, unknown> {
  const record = unfinishedOrThrow(call.state.store, p.string('fileId'));
  const { token, uploadUrlId } = call.state.tokens.issueUploadToken();
  return {
    fileId: record.fileId,
    uploadUrl: `${call.base}/b2api/${call.version}/b2_upload_part/${record.fileId}/${uploadUrlId}`,
    authorizationToken: token,
  };
}

/** POST <part upload URL>: `rest` is `<fileId>/<uploadUrlId>`. */
export async function uploadPart(call: Call, rest: string): Promise<Record<string, unknown>> {
  const { req } = call;
  const { store, tokens, faults } = call.state;
  if (req.method !== 'POST') throw badRequest('b2_upload_part needs POST');
  const [fileId = '', uploadUrlId = ''] = rest.split('/');
  tokens.checkUpload(header(req, 'authorization'), uploadUrlId);
  unfinishedOrThrow(store, fileId);
  if (faults.takeUploadFailure()) throw serviceUnavailable();

  const partHeader = header(req, 'x-bz-part-number') ?? '';
  const partNumber = /^\d+$/.test(partHeader) ? Number(partHeader) : NaN;
  if (!(partNumber >= 1 && partNumber <= MAX_PART_NUMBER)) throw badRequest(`X-Bz-Part-Number must be 1 to ${MAX_PART_NUMBER}`);
  const contentLength = contentLengthOf(req);
  const sha1Mode = sha1ModeOf(req);

  const body = await receiveBody(req, store, contentLength, sha1Mode);
  let record: FileRecord;
  try {
    record = unfinishedOrThrow(store, fileId); // it may have been cancelled meanwhile
    await mkdir(store.partsDir(fileId), { recursive: true });
    await rename(body.tmp, store.partPath(fileId, partNumber));
  } catch (err) {
    await removeQuietly(body.tmp);
    throw err;
  }
  record.parts = { ...record.parts, [partNumber]: { contentLength: body.contentLength, contentSha1: body.sha1 } };
  await store.persist();
  return { fileId, partNumber, contentLength: body.contentLength, contentSha1: body.sha1 };
}

export async function finishLargeFile(call: Call, p: Params): Promise<Record<string, unknown>> {
  const { store } = call.state;
  const fileId = p.string('fileId');
  const sha1s = p.stringArray('partSha1Array');
  const record = unfinishedOrThrow(store, fileId);
  const parts = record.parts ?? {};
  const uploaded = Object.keys(parts).map(Number);
  const last = Math.max(0, ...uploaded);
  if (sha1s.length < 2) throw badRequest('large files must have at least 2 parts');
  if (sha1s.length !== last) throw badRequest(`partSha1Array has ${sha1s.length} entries but ${last} parts were uploaded`);
  for (let n = 1; n <= last; n++) {
    const part = parts[n];
    if (!part) throw badRequest(`Part number ${n} has not been uploaded`);
    if (part.contentSha1.toLowerCase() !== sha1s[n - 1]!.toLowerCase()) throw badRequest(`Part number ${n} SHA1 mismatch: partSha1Array says ${sha1s[n - 1]}`);
    if (n < last && part.contentLength < ABSOLUTE_MINIMUM_PART_SIZE) {
      throw badRequest(`Part number ${n} is smaller than the minimum part size ${ABSOLUTE_MINIMUM_PART_SIZE}`);
    }
  }

  store.finishing.add(fileId);
  try {
    const tmp = store.tmpPath();
    let total = 0;
    try {
      const out = createWriteStream(tmp);
      for (let n = 1; n <= last; n++) {
        for await (const chunk of createReadStream(store.partPath(fileId, n)) as AsyncIterable<Buffer>) {
          total += chunk.length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
      }
      out.end();
      await once(out, 'finish');
      await rename(tmp, store.dataPath(fileId));
    } catch (err) {
      await removeQuietly(tmp);
      throw err;
    }
    record.action = 'upload';
    record.contentLength = total;
    delete record.parts;
    await store.persist();
    await rm(store.partsDir(fileId), { recursive: true, force: true });
  } finally {
    store.finishing.delete(fileId);
  }
  return fileJson(store, record, call.version);
}

export async function cancelLargeFile(call: Call, p: Params): Promise<Record<string, unknown>> {
  const { store } = call.state;
  const record = unfinishedOrThrow(store, p.string('fileId'));
  store.removeRecord(record);
  await store.persist();
  await rm(store.partsDir(record.fileId), { recursive: true, force: true });
  return { fileId: record.fileId, accountId: store.accountId, bucketId: record.bucketId, fileName: record.fileName };
}

export function listUnfinishedLargeFiles(call: Call, p: Params): Record<string, unknown> {
  const { store } = call.state;
  const bucket = bucketOrThrow(store, p.string('bucketId'));
  const namePrefix = p.optionalString('namePrefix') ?? '';
  const startFileId = p.optionalString('startFileId');
  const max = p.optionalInt('maxFileCount', 1, 100) ?? 100;
  let files = store.unfinished(bucket.bucketId).filter((f) => f.fileName.startsWith(namePrefix));
  if (startFileId) {
    const start = store.file(startFileId);
    files = files.filter((f) => f.seq >= (start?.seq ?? 0));
  }
  return {
    files: files.slice(0, max).map((f) => fileJson(store, f, call.version)),
    nextFileId: files.length > max ? files[max]!.fileId : null,
  };
}

export function listParts(call: Call, p: Params): Record<string, unknown> {
  const record = unfinishedOrThrow(call.state.store, p.string('fileId'));
  const start = p.optionalInt('startPartNumber', 1, MAX_PART_NUMBER) ?? 1;
  const max = p.optionalInt('maxPartCount', 1, 1000) ?? 100;
  const parts = Object.entries(record.parts ?? {})
    .map(([n, part]) => ({ fileId: record.fileId, partNumber: Number(n), contentLength: part.contentLength, contentSha1: part.contentSha1 }))
    .filter((part) => part.partNumber >= start)
    .sort((a, b) => a.partNumber - b.partNumber);
  return { parts: parts.slice(0, max), nextPartNumber: parts.length > max ? parts[max]!.partNumber : null };
}
