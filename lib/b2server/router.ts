// Maps a request to its handler. B2 calls live under /b2api/v1/ and /b2api/v2/ (same behaviour;
// v1 listings also carry `size`), downloads by name under /file/, test hooks under /__strata/.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiVersion, Call, ServerState } from './context.ts';
import { control } from './control.ts';
import { B2Error, notFound } from './errors.ts';
import { drain, header, readParams, sendError, sendJson, type Params } from './http.ts';
import { authorizeAccount, createBucket, deleteBucket, listBuckets } from './handlers/account.ts';
import { downloadById, downloadByName } from './handlers/download.ts';
import { deleteFileVersion, getFileInfo, hideFile } from './handlers/files.ts';
import { cancelLargeFile, finishLargeFile, getUploadPartUrl, listParts, listUnfinishedLargeFiles, startLargeFile, uploadPart } from './handlers/large-file.ts';
import { listFileNames, listFileVersions } from './handlers/listing.ts';
import { getUploadUrl, uploadFile } from './handlers/upload.ts';

type JsonCall = (call: Call, params: Params) => unknown;

/** Calls that take JSON parameters and the account token. */
const JSON_CALLS: Record<string, JsonCall> = {
  b2_list_buckets: listBuckets,
  b2_create_bucket: createBucket,
  b2_delete_bucket: deleteBucket,
  b2_get_upload_url: getUploadUrl,
  b2_start_large_file: startLargeFile,
  b2_get_upload_part_url: getUploadPartUrl,
  b2_finish_large_file: finishLargeFile,
  b2_cancel_large_file: cancelLargeFile,
  b2_list_unfinished_large_files: listUnfinishedLargeFiles,
  b2_list_parts: listParts,
  b2_list_file_names: listFileNames,
  b2_list_file_versions: listFileVersions,
  b2_hide_file: hideFile,
  b2_delete_file_version: deleteFileVersion,
  b2_get_file_info: getFileInfo,
};

const API_PATH = /^\/b2api\/(v1|v2)\/([a-z0-9_]+)(?:\/(.*))?$/;

export async function route(state: ServerState, req: IncomingMessage, res: ServerResponse, fallbackBase: string): Promise<void> {
  const host = header(req, 'host');
  const base = host ? `http://${host}` : fallbackBase;
  let call: Call | undefined;
  try {
    const url = new URL(req.url ?? '/', base);
    const path = url.pathname;
    call = { state, req, res, url, version: 'v2', base };
    if (path.startsWith('/__strata/')) return await control(call, path.slice('/__strata/'.length));

    await state.faults.delay();
    if (path.startsWith('/file/')) {
      call.version = 'v2';
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new B2Error(405, 'method_not_allowed', 'downloads take GET or HEAD');
      return await downloadByName(call, path.slice('/file/'.length));
    }
    const m = API_PATH.exec(path);
    if (!m) throw notFound(`no such API: ${path}`);
    call.version = m[1] as ApiVersion;
    const op = m[2]!;
    const rest = m[3] ?? '';
    switch (op) {
      case 'b2_authorize_account':
        await drain(req);
        return sendJson(res, 200, authorizeAccount(call));
      case 'b2_upload_file':
        return sendJson(res, 200, await uploadFile(call, rest));
      case 'b2_upload_part':
        return sendJson(res, 200, await uploadPart(call, rest));
      case 'b2_download_file_by_id':
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new B2Error(405, 'method_not_allowed', 'downloads take GET or HEAD');
        return await downloadById(call);
    }
    const handler = JSON_CALLS[op];
    if (!handler || rest !== '') throw notFound(`no such API: ${path}`);
    const params = await readParams(req, url);
    state.tokens.checkAccount(header(req, 'authorization'));
    sendJson(res, 200, await handler(call, params));
  } catch (err) {
    // Let a client that is still sending an upload finish, so it can read the error.
    await drain(req);
    sendError(res, err);
  }
}
