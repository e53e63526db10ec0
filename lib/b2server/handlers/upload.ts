// b2_get_upload_url and b2_upload_file.
import { rename } from 'node:fs/promises';
import type { Call } from '../context.ts';
import { badRequest, serviceUnavailable } from '../errors.ts';
import { fileJson } from '../file-json.ts';
import { b2UrlDecode, header, type Params } from '../http.ts';
import { contentLengthOf, receiveBody, sha1ModeOf } from '../receive.ts';
import { removeQuietly } from '../store.ts';
import { bucketOrThrow, checkFileName, fileInfoFromHeaders, resolveContentType } from './common.ts';

export function getUploadUrl(call: Call, p: Params): Record<string, unknown> {
  const bucket = bucketOrThrow(call.state.store, p.string('bucketId'));
  const { token, uploadUrlId } = call.state.tokens.issueUploadToken();
  return {
    bucketId: bucket.bucketId,
    uploadUrl: `${call.base}/b2api/${call.version}/b2_upload_file/${bucket.bucketId}/${uploadUrlId}`,
    authorizationToken: token,
  };
}

/** POST <uploadUrl>: `rest` is `<bucketId>/<uploadUrlId>`. */
export async function uploadFile(call: Call, rest: string): Promise<Record<string, unknown>> {
  const { req } = call;
  const { store, tokens, faults } = call.state;
  if (req.method !== 'POST') throw badRequest('b2_upload_file needs POST');
  const [bucketId = '', uploadUrlId = ''] = rest.split('/');
  tokens.checkUpload(header(req, 'authorization'), uploadUrlId);
  const bucket = bucketOrThrow(store, bucketId);
  if (faults.takeUploadFailure()) throw serviceUnavailable();

  const rawName = header(req, 'x-bz-file-name');
  if (rawName === undefined) throw badRequest('X-Bz-File-Name header is required');
  const fileName = b2UrlDecode(rawName, 'X-Bz-File-Name');
  checkFileName(fileName);
  const contentLength = contentLengthOf(req);
  const sha1Mode = sha1ModeOf(req);
  const contentType = resolveContentType(header(req, 'content-type'), fileName);
  const fileInfo = fileInfoFromHeaders(req);

  const body = await receiveBody(req, store, contentLength, sha1Mode);
  if (!store.bucketById(bucket.bucketId)) {
    await removeQuietly(body.tmp);
    throw badRequest(`Invalid bucketId: ${bucket.bucketId}`);
  }
  const record = store.newRecord({
    bucketId: bucket.bucketId,
    fileName,
    action: 'upload',
    contentLength: body.contentLength,
    contentSha1: body.verified ? body.sha1 : `unverified:${body.sha1}`,
    contentType,
    fileInfo,
  });
  await rename(body.tmp, store.dataPath(record.fileId));
  store.add(record);
  await store.persist();
  return fileJson(store, record, call.version);
}
