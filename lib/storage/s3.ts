// The S3 backend (s3_standard, s3_ia): AWS S3 or an S3-compatible server such as s3rver.
// Bodies up to one part: PutObject. Larger: CreateMultipartUpload → UploadPart (one in flight while the
// next part fills, two reused part buffers; see part-reader.ts) → CompleteMultipartUpload, aborted on failure.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { quietAwsSdkVersionNotice, type ConfigFor } from '../env.ts';
import {
  ObjectNotFoundError,
  SizeMismatchError,
  abortErrorFrom,
  httpStatusOf,
  isAbortError,
  isPermanentStatus,
} from './errors.ts';
import { framedPut } from './put-frame.ts';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from './types.ts';

// package-lock.json pins an SDK release that supports Node 20; its warning about future releases
// needing Node 22 would only repeat in every log.
quietAwsSdkVersionNotice();

export type S3Tier = 's3_standard' | 's3_ia';

const STORAGE_CLASS: Record<S3Tier, StorageClass> = { s3_standard: 'STANDARD', s3_ia: 'STANDARD_IA' };

/** An AbortMultipartUpload that was sent; `supported` is false when the server does not implement it (s3rver: 405). */
export interface AbortRequest {
  key: string;
  uploadId: string | undefined;
  supported: boolean;
}

export interface S3StoreOptions {
  tier: S3Tier;
  bucket: string;
  /** AWS_REGION */
  region: string;
  /** S3_ENDPOINT; omitted means AWS. */
  endpoint?: string;
  /** S3_FORCE_PATH_STYLE */
  forcePathStyle?: boolean;
  /** S3_CHECKSUM_MODE: `when_required` for servers that store aws-chunked framing verbatim (s3rver). */
  checksumMode?: 'when_supported' | 'when_required';
  /** S3_PART_SIZE_MB (at least 5). */
  partSizeMb: number;
  /** MaxKeys per ListObjectsV2 page; S3's default (1000) when omitted. */
  listPageSize?: number;
  /** Overrides the standard credential chain (environment, profile, instance role…). */
  credentials?: S3ClientConfig['credentials'];
  /** Called whenever an AbortMultipartUpload is sent (after a failed or aborted put). */
  onAbortRequested?: (request: AbortRequest) => void;
}

export interface S3Store extends ObjectStore {
  readonly tier: S3Tier;
  /** How many AbortMultipartUpload requests this store has sent. */
  readonly abortsRequested: number;
  readonly client: S3Client;
  /** Closes the client's sockets. */
  destroy(): void;
}

/** The S3 client options of the configuration (docs/design.md "Environment"). */
export function s3StoreOptionsFromConfig(config: ConfigFor<'stores'>, tier: S3Tier): S3StoreOptions {
  return {
    tier,
    bucket: config.S3_BACKUP_BUCKET,
    region: config.AWS_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    checksumMode: config.S3_CHECKSUM_MODE,
    partSizeMb: config.S3_PART_SIZE_MB,
    // Keys given in the configuration win; otherwise the SDK's standard credential chain applies.
    credentials:
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
        : undefined,
  };
}

const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound']);
const PERMANENT_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'NoSuchBucket',
  'InvalidBucketName',
  'InvalidRange',
  'InvalidArgument',
  'EntityTooLarge',
  'NotImplemented',
  'MethodNotAllowed',
]);
const TRANSIENT_NAMES = new Set(['RequestTimeout', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'Throttling', 'ThrottlingException']);

function errorName(err: unknown): string | undefined {
  const e = err as { name?: unknown; Code?: unknown } | null;
  return typeof e?.Code === 'string' ? e.Code : typeof e?.name === 'string' ? e.name : undefined;
}

function versionsUnsupported(err: unknown): boolean {
  const status = httpStatusOf(err);
  const name = errorName(err);
  return status === 405 || status === 501 || name === 'NotImplemented' || name === 'MethodNotAllowed';
}

export function createS3Store(options: S3StoreOptions): S3Store {
  const { tier, bucket } = options;
  const partSize = options.partSizeMb * 1024 * 1024;
  const whenRequired = options.checksumMode === 'when_required';
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    // s3rver (and some other S3-compatible servers) store aws-chunked stream framing inside the object:
    // only send checksums where the API requires them.
    ...(whenRequired ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  });

  let abortsRequested = 0;
  let versionedDeletes = true;

  // put() sends AbortMultipartUpload when an upload fails. s3rver answers 405 (not implemented):
  // its parts stay on disk, nothing becomes visible. Record every abort and don't let the 405 replace the real error.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'AbortMultipartUploadCommand') return next(args);
      const input = args.input as { Key?: string; UploadId?: string };
      abortsRequested += 1;
      try {
        const result = await next(args);
        options.onAbortRequested?.({ key: input.Key ?? '', uploadId: input.UploadId, supported: true });
        return result;
      } catch (err) {
        const name = errorName(err);
        if (versionsUnsupported(err) || name === 'NoSuchUpload') {
          options.onAbortRequested?.({ key: input.Key ?? '', uploadId: input.UploadId, supported: name === 'NoSuchUpload' });
          return { output: { $metadata: {} } as never, response: undefined };
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'strataRecordAbortMultipartUpload' },
  );

  const location = (key: string) => `s3://${bucket}/${key}`;

  async function head(key: string): Promise<ObjectInfo | null> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified };
    } catch (err) {
      if (store.isNotFound(err)) return null;
      throw err;
    }
  }

  async function put(key: string, body: Readable | Buffer, putOptions: PutOptions = {}): Promise<{ size: number }> {
    const { signal } = putOptions;
    const target = { Bucket: bucket, Key: key };
    const object = { ...target, StorageClass: STORAGE_CLASS[tier], ContentType: putOptions.contentType };
    const sendOptions = { abortSignal: signal };
    let uploadId: string | undefined;
    let completing = false;
    return framedPut(body, partSize, putOptions, async (reader, progress) => {
      const first = await reader.read();
      if (await reader.atEnd()) {
        completing = true;
        await client.send(new PutObjectCommand({ ...object, Body: first, ContentLength: first.length }), sendOptions);
      } else {
        // Multipart: one part in flight while the next one fills (two part buffers in memory).
        const created = await client.send(new CreateMultipartUploadCommand(object), sendOptions);
        uploadId = created.UploadId;
        const parts: CompletedPart[] = [];
        let part = first;
        let sent = 0;
        for (let partNumber = 1; part.length > 0; partNumber++) {
          if (partNumber > 10_000) throw new Error(`${location(key)}: more than 10,000 parts of ${options.partSizeMb} MB; raise S3_PART_SIZE_MB`);
          const next = reader.read();
          next.catch(() => {});
          const out = await client.send(new UploadPartCommand({ ...target, UploadId: uploadId, PartNumber: partNumber, Body: part, ContentLength: part.length }), sendOptions);
          parts.push({ PartNumber: partNumber, ETag: out.ETag });
          sent += part.length;
          progress.report(sent);
          part = await next;
        }
        completing = true;
        await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: parts } }), sendOptions);
      }
      // The signal fired while the last request was in flight: the object became visible, take it back.
      if (signal?.aborted) throw abortErrorFrom(signal);
      const size = reader.bytesRead;
      const stored = await head(key);
      if (stored?.size !== size) throw new SizeMismatchError(location(key), size, stored?.size);
      progress.finish(size);
      return { size };
    }, async () => {
      // Nothing half-sent stays behind: the multipart upload is aborted (s3rver: 405, its parts are never
      // visible), and an object that may have become visible is deleted.
      if (uploadId !== undefined && !completing) {
        await client.send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId })).catch(() => {});
      }
      if (completing) await deleteObject(key).catch(() => {});
    });
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (store.isNotFound(err)) throw new ObjectNotFoundError(location(key), { cause: err });
      throw err;
    }
  }

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken, MaxKeys: options.listPageSize }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async function deleteObject(key: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  // In a versioned bucket a plain DeleteObject only adds a delete marker: remove every version and marker.
  // Servers without ListObjectVersions (s3rver: 405) are not versioned; they get a plain delete.
  async function deleteEveryVersion(key: string): Promise<boolean> {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, KeyMarker, VersionIdMarker }));
      } catch (err) {
        if (versionsUnsupported(err)) return false;
        throw err;
      }
      const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
      for (const v of entries) {
        if (v.Key === key) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.VersionId }));
      }
      // Keys come sorted and `key` is the smallest with this prefix: once a page reaches another key we are done.
      if (!page.IsTruncated || entries.some((v) => v.Key !== key)) return true;
      KeyMarker = page.NextKeyMarker;
      VersionIdMarker = page.NextVersionIdMarker;
    }
  }

  async function del(key: string): Promise<void> {
    if (versionedDeletes) {
      if (await deleteEveryVersion(key)) return;
      versionedDeletes = false;
    }
    await deleteObject(key);
  }

  const store: S3Store = {
    tier,
    bucket,
    client,
    get abortsRequested() {
      return abortsRequested;
    },
    location,
    put,
    get,
    head,
    list,
    delete: del,
    isNotFound(err) {
      if (err instanceof ObjectNotFoundError) return true;
      const name = errorName(err);
      if (name && NOT_FOUND_NAMES.has(name)) return true;
      return httpStatusOf(err) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload';
    },
    isPermanent(err) {
      if (store.isNotFound(err) || isAbortError(err)) return true;
      const name = errorName(err);
      if (name && TRANSIENT_NAMES.has(name)) return false;
      if (name && PERMANENT_NAMES.has(name)) return true;
      return isPermanentStatus(httpStatusOf(err));
    },
    destroy() {
      client.destroy();
    },
  };
  return store satisfies ObjectStore;
}
