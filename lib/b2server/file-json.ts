// The JSON shapes B2 uses for buckets and file versions.
import type { ApiVersion } from './context.ts';
import type { Store } from './store.ts';
import type { BucketRecord, FileRecord } from './store-types.ts';

export function bucketJson(store: Store, b: BucketRecord): Record<string, unknown> {
  return {
    accountId: store.accountId,
    bucketId: b.bucketId,
    bucketName: b.bucketName,
    bucketType: b.bucketType,
    bucketInfo: {},
    corsRules: [],
    lifecycleRules: [],
    options: [],
    revision: b.revision,
    defaultServerSideEncryption: { isClientAuthorizedToRead: true, value: { mode: null } },
    fileLockConfiguration: { isClientAuthorizedToRead: true, value: { defaultRetention: { mode: null, period: null }, isFileLockEnabled: false } },
  };
}

/** A file version as b2_upload_file, b2_get_file_info and the listings return it. */
export function fileJson(store: Store, f: FileRecord, version: ApiVersion): Record<string, unknown> {
  const json: Record<string, unknown> = {
    accountId: store.accountId,
    action: f.action,
    bucketId: f.bucketId,
    contentLength: f.contentLength,
    contentSha1: f.contentSha1,
    contentType: f.contentType,
    fileId: f.fileId,
    fileInfo: f.fileInfo,
    fileName: f.fileName,
    uploadTimestamp: f.uploadTimestamp,
    // Real B2 returns these with every file version of an upload, an unfinished large file and a
    // hide marker (this server has no Object Lock, no server-side encryption and no replication):
    // Backblaze's b2sdk refuses an `upload` version without fileRetention and legalHold.
    fileRetention: { isClientAuthorizedToRead: true, value: { mode: null, retainUntilTimestamp: null } },
    legalHold: { isClientAuthorizedToRead: true, value: null },
    serverSideEncryption: { algorithm: null, mode: null },
    replicationStatus: null,
  };
  // v1 listings called the length `size`; v2 renamed it to `contentLength`.
  if (version === 'v1') json.size = f.contentLength;
  return json;
}

/** The pseudo-entry a listing with a delimiter returns for a "folder". */
export function folderJson(store: Store, bucketId: string, folderName: string, version: ApiVersion): Record<string, unknown> {
  const json: Record<string, unknown> = {
    accountId: store.accountId,
    action: 'folder',
    bucketId,
    contentLength: 0,
    contentSha1: null,
    contentType: null,
    fileId: null,
    fileInfo: {},
    fileName: folderName,
    uploadTimestamp: 0,
  };
  if (version === 'v1') json.size = 0;
  return json;
}
