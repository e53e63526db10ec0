// b2_hide_file, b2_delete_file_version, b2_get_file_info.
import { rm } from 'node:fs/promises';
import type { Call } from '../context.ts';
import { B2Error, notFound } from '../errors.ts';
import { fileJson } from '../file-json.ts';
import type { Params } from '../http.ts';
import { removeQuietly } from '../store.ts';
import { bucketOrThrow, checkFileName } from './common.ts';

/** Hiding adds a "hide" version on top; the earlier versions stay until deleted one by one. */
export async function hideFile(call: Call, p: Params): Promise<Record<string, unknown>> {
  const { store } = call.state;
  const bucket = bucketOrThrow(store, p.string('bucketId'));
  const fileName = p.string('fileName');
  checkFileName(fileName);
  const newest = store.versions(bucket.bucketId, fileName).find((v) => v.action !== 'start');
  if (!newest) throw new B2Error(400, 'no_such_file', `File not present: ${fileName}`);
  if (newest.action === 'hide') throw new B2Error(400, 'already_hidden', `File already hidden: ${fileName}`);
  const record = store.newRecord({
    bucketId: bucket.bucketId,
    fileName,
    action: 'hide',
    contentLength: 0,
    contentSha1: 'none',
    contentType: 'application/x-bz-hide-marker',
    fileInfo: {},
  });
  store.add(record);
  await store.persist();
  return fileJson(store, record, call.version);
}

export async function deleteFileVersion(call: Call, p: Params): Promise<Record<string, unknown>> {
  const { store } = call.state;
  const fileId = p.string('fileId');
  const fileName = p.string('fileName');
  const record = store.file(fileId);
  if (!record || record.fileName !== fileName) throw new B2Error(400, 'file_not_present', `File not present: ${fileName} ${fileId}`);
  store.removeRecord(record);
  await store.persist();
  // Deleting an unfinished large file drops its parts, like b2_cancel_large_file.
  if (record.action === 'start') await rm(store.partsDir(fileId), { recursive: true, force: true });
  if (record.action === 'upload') await removeQuietly(store.dataPath(fileId));
  return { fileId, fileName };
}

export function getFileInfo(call: Call, p: Params): Record<string, unknown> {
  const { store } = call.state;
  const fileId = p.string('fileId');
  const record = store.file(fileId);
  if (!record) throw notFound(`Not a valid file id: ${fileId}`);
  return fileJson(store, record, call.version);
}
