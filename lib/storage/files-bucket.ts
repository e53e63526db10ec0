// The application's files bucket (design.md "Tenant files"): where the SaaS keeps each tenant's
// documents. Strata lists it (ListObjectsV2, every page), reads objects with their content type and
// user metadata, and on a file restore writes objects back (PutObject, or multipart for large ones)
// and, only when asked, deletes extras. It is not a backup store: no storage tier, and its keys are
// the application's, so it is its own small adapter rather than an ObjectStore.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { quietAwsSdkVersionNotice, type BaseConfig } from '../env.ts';

quietAwsSdkVersionNotice();

/** One object as a listing shows it. */
export interface ListedFile {
  key: string;
  size: number;
  /** Without quotes. */
  etag: string;
  lastModified: Date;
}

export interface FileHead {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string | null;
  metadata: Record<string, string>;
}

export interface FileWrite {
  contentType: string | null;
  metadata: Record<string, string>;
  size: number;
}

export interface FilesBucket {
  readonly bucket: string;
  /** `s3://bucket/key`, for messages. */
  location(key: string): string;
  list(prefix: string): AsyncIterable<ListedFile>;
  head(key: string): Promise<FileHead | null>;
  /** The content with what the same response says of the object. */
  get(key: string): Promise<{ body: Readable; head: FileHead }>;
  /** Writes `parts` (the content, in order) as the object; large contents as a multipart upload, aborted on failure. */
  put(key: string, parts: AsyncIterable<Buffer>, write: FileWrite, signal?: AbortSignal): Promise<void>;
  delete(key: string): Promise<void>;
  /** Rejects when the bucket cannot be reached with these settings. */
  check(): Promise<void>;
  destroy(): void;
}

/** Part size of multipart writes (S3's minimum is 5 MiB). */
export const FILE_PART_BYTES = 8 * 1024 * 1024;

/** The files bucket of the configuration, or null when STRATA_FILES_BUCKET is unset (the feature is off). */
export function filesBucketFromConfig(config: BaseConfig): FilesBucket | null {
  if (!config.STRATA_FILES_BUCKET) return null;
  const accessKeyId = config.STRATA_FILES_ACCESS_KEY_ID ?? config.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.STRATA_FILES_SECRET_ACCESS_KEY ?? config.AWS_SECRET_ACCESS_KEY;
  const client = new S3Client({
    region: config.STRATA_FILES_REGION ?? config.AWS_REGION,
    endpoint: config.STRATA_FILES_ENDPOINT ?? config.S3_ENDPOINT,
    forcePathStyle: config.STRATA_FILES_FORCE_PATH_STYLE ?? config.S3_FORCE_PATH_STYLE,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    ...(config.S3_CHECKSUM_MODE === 'when_required' ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  });
  return createFilesBucket(client, config.STRATA_FILES_BUCKET);
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export function createFilesBucket(client: S3Client, bucket: string): FilesBucket {
  const Bucket = bucket;
  return {
    bucket,
    location: (key) => `s3://${bucket}/${key}`,
    async *list(prefix) {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          yield { key: o.Key, size: Number(o.Size ?? 0), etag: unquote(o.ETag), lastModified: o.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async head(key) {
      try {
        const h = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return {
          size: Number(h.ContentLength ?? 0),
          etag: unquote(h.ETag),
          lastModified: h.LastModified ?? new Date(0),
          contentType: h.ContentType ?? null,
          metadata: { ...(h.Metadata ?? {}) },
        };
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async get(key) {
      const res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return {
        body: res.Body as Readable,
        head: {
          size: Number(res.ContentLength ?? 0),
          etag: unquote(res.ETag),
          lastModified: res.LastModified ?? new Date(0),
          contentType: res.ContentType ?? null,
          metadata: { ...(res.Metadata ?? {}) },
        },
      };
    },
    async put(key, parts, write, signal) {
      const common = { Bucket, Key: key, ContentType: write.contentType ?? undefined, Metadata: write.metadata };
      if (write.size <= FILE_PART_BYTES) {
        const buffers: Buffer[] = [];
        for await (const p of parts) buffers.push(p);
        await client.send(new PutObjectCommand({ ...common, Body: Buffer.concat(buffers) }), { abortSignal: signal });
        return;
      }
      const { UploadId } = await client.send(new CreateMultipartUploadCommand(common), { abortSignal: signal });
      const done: CompletedPart[] = [];
      try {
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = async () => {
          const PartNumber = done.length + 1;
          const out = await client.send(new UploadPartCommand({ Bucket, Key: key, UploadId, PartNumber, Body: Buffer.concat(pending) }), { abortSignal: signal });
          done.push({ PartNumber, ETag: out.ETag });
          pending = [];
          pendingBytes = 0;
        };
        for await (const p of parts) {
          pending.push(p);
          pendingBytes += p.length;
          if (pendingBytes >= FILE_PART_BYTES) await flush();
        }
        if (pendingBytes > 0 || done.length === 0) await flush();
        await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }), { abortSignal: signal });
      } catch (err) {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId })).catch(() => {});
        throw err;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    async check() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },
    destroy: () => client.destroy(),
  };
}
