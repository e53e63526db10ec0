// The Backblaze B2 backend (b2_cold), over B2's native API with the `backblaze-b2` package.
//
// B2 rules this file follows (B2 docs "Integration checklist", b2sdk's raw_simulator):
// - One client per process: the package keeps a single axios instance for the whole process and every
//   `new B2()` replaces it, so clients are shared per (auth URL, key id) at module level.
// - 401 expired_auth_token / bad_auth_token → authorize again; 408, 429, 5xx → back off and retry, and for
//   uploads get a NEW upload URL (each URL belongs to one uploader; a busy pod answers 503).
// - Bodies up to one part: b2_upload_file. Larger: b2_start_large_file → b2_upload_part (SHA1 each) →
//   b2_finish_large_file with partSha1Array; b2_cancel_large_file on any failure or abort.
// - Every bucket is versioned and b2_hide_file only hides: delete removes every version.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type B2 from 'backblaze-b2';
import type { B2File, UploadUrl } from 'backblaze-b2';
import type { BaseConfig } from '../env.ts';
import { backoffDelay, sleep } from './backoff.ts';
import { ObjectNotFoundError, SizeMismatchError, abortErrorFrom, isAbortError, isPermanentStatus } from './errors.ts';
import { PartReader } from './part-reader.ts';
import { framedPut } from './put-frame.ts';
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from './types.ts';

export interface B2StoreOptions {
  /** B2_BUCKET_NAME */
  bucketName: string;
  /** B2_BUCKET_ID */
  bucketId: string;
  /** B2_APPLICATION_KEY_ID */
  keyId: string;
  /** B2_APPLICATION_KEY */
  key: string;
  /** B2_AUTH_URL: the API base; `/b2api/v2/b2_authorize_account` is appended. */
  authUrl: string;
  /** B2_PART_SIZE_MB (at least 5). */
  partSizeMb: number;
  /** maxFileCount per listing page (default 1000, B2's free maximum). */
  listPageSize?: number;
  /** Attempts per B2 request, counting the first (default 5). */
  requestAttempts?: number;
  /** First backoff delay for busy answers (default 1000 ms, doubling). */
  baseDelayMs?: number;
}

export interface B2Store extends ObjectStore {
  readonly tier: 'b2_cold';
}

export function b2StoreOptionsFromConfig(config: BaseConfig): B2StoreOptions {
  if (!config.b2Configured) {
    throw new Error('b2_cold needs B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, B2_BUCKET_NAME and B2_BUCKET_ID to be set');
  }
  return {
    bucketName: config.B2_BUCKET_NAME!,
    bucketId: config.B2_BUCKET_ID!,
    keyId: config.B2_APPLICATION_KEY_ID!,
    key: config.B2_APPLICATION_KEY!,
    authUrl: config.B2_AUTH_URL,
    partSizeMb: config.B2_PART_SIZE_MB,
  };
}

/** A failed B2 call: the operation, HTTP status and B2's `{code, message}` — never the request (it holds tokens). */
export class B2RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${operation}: ${status ?? 'no response'}${code ? ` ${code}` : ''}: ${detail}`);
    this.name = 'B2RequestError';
  }
}

interface RawError {
  status: number | undefined;
  code: string | undefined;
  message: string;
}

function rawError(err: unknown): RawError {
  if (err instanceof B2RequestError) return { status: err.status, code: err.code, message: err.message };
  const e = err as { response?: { status?: number; data?: unknown }; code?: unknown; message?: unknown } | null;
  const data = e?.response?.data as { code?: unknown; message?: unknown } | undefined;
  const isJson = data !== null && typeof data === 'object' && typeof (data as { pipe?: unknown }).pipe !== 'function';
  return {
    status: e?.response?.status,
    code: isJson && typeof data.code === 'string' ? data.code : e?.response ? undefined : typeof e?.code === 'string' ? e.code : undefined,
    message: isJson && typeof data.message === 'string' ? data.message : String(e?.message ?? err),
  };
}

/** A streamed error body (downloads) must be released or its socket stays busy. */
function discardErrorBody(err: unknown): void {
  const data = (err as { response?: { data?: { destroy?: () => void } } } | null)?.response?.data;
  if (typeof data?.destroy === 'function') data.destroy();
}

/** Downloads answer errors as a stream too: read B2's small JSON error body so its `code` can be seen. */
async function readStreamedErrorBody(err: unknown): Promise<void> {
  const response = (err as { response?: { data?: unknown } } | null)?.response;
  const data = response?.data as Readable | undefined;
  if (!response || typeof data?.pipe !== 'function') return;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of data) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      length += (chunk as Uint8Array).length;
      if (length > 64 * 1024) break;
    }
  } catch {
    // the body is only a hint
  } finally {
    data.destroy();
  }
  try {
    response.data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    response.data = undefined;
  }
}

function toRequestError(operation: string, err: unknown): Error {
  if (err instanceof B2RequestError || isAbortError(err) || !(err as { isAxiosError?: unknown })?.isAxiosError) return err as Error;
  discardErrorBody(err);
  const raw = rawError(err);
  return new B2RequestError(operation, raw.status, raw.code, raw.message);
}

const isAuthExpiry = (r: RawError) => r.status === 401 && (r.code === 'expired_auth_token' || r.code === 'bad_auth_token');
const isBusy = (r: RawError) => r.status === 408 || r.status === 429 || (r.status !== undefined && r.status >= 500 && r.status !== 501);
const isNetwork = (r: RawError) => r.status === undefined;

// ---- one authorized client per (auth URL, key id), shared by every store in the process ----

interface Account {
  /** The client; set by the first ready(). */
  readonly b2: B2;
  /** Authorizes when needed; resolves to the generation of the token now in use. */
  ready(): Promise<number>;
  /** The token of `generation` was refused: the next ready() authorizes again. */
  invalidate(generation: number): void;
}

const accounts = new Map<string, Account>();

// backblaze-b2 (with axios) is loaded by the first B2 call, not at start: ≈ 19 MB resident on its own
// (a worker 86 → 81 MB before any job, bench item 2) that a process never touching b2_cold does not pay.
let b2Module: Promise<typeof import('backblaze-b2')> | undefined;
const loadB2 = () => (b2Module ??= import('backblaze-b2'));

function accountFor(options: B2StoreOptions): Account {
  const authorizeUrl = `${options.authUrl.replace(/\/+$/, '')}/b2api/v2/b2_authorize_account`;
  const id = `${authorizeUrl}\n${options.keyId}`;
  let account = accounts.get(id);
  if (account) return account;
  let b2: B2 | undefined;
  let generation = 0;
  let valid = false;
  let authorizing: Promise<number> | undefined;
  account = {
    get b2() {
      if (!b2) throw new Error('B2 client used before authorization');
      return b2;
    },
    ready() {
      if (valid) return Promise.resolve(generation);
      authorizing ??= loadB2()
        .then(({ default: B2Client }) => {
          // axios-retry off: retries happen here, where B2's rules (new upload URL, re-authorize) are known.
          b2 ??= new B2Client({ applicationKeyId: options.keyId, applicationKey: options.key, retry: { retries: 0 } });
          return b2.authorize({ axiosOverride: { url: authorizeUrl } });
        })
        .then(() => {
          generation += 1;
          valid = true;
          return generation;
        })
        .catch((err: unknown) => {
          throw toRequestError('b2_authorize_account', err);
        })
        .finally(() => {
          authorizing = undefined;
        });
      return authorizing;
    },
    invalidate(gen) {
      if (gen === generation) valid = false;
    },
  };
  accounts.set(id, account);
  return account;
}

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

export function createB2Store(options: B2StoreOptions): B2Store {
  const { bucketName, bucketId } = options;
  const partSize = options.partSizeMb * 1024 * 1024;
  const attempts = options.requestAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const pageSize = options.listPageSize ?? 1000;
  const account = accountFor(options);
  /** Upload URLs of b2_upload_file, reused while they work (one per concurrent upload). */
  const uploadUrls: UploadUrl[] = [];

  const location = (key: string) => `b2://${bucketName}/${key}`;

  /** A call with the account token: re-authorizes on an expired token, backs off when B2 is busy. */
  async function api<T>(operation: string, call: () => Promise<{ data: T }>, opts: { idempotent?: boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const generation = await account.ready();
      try {
        return (await call()).data;
      } catch (err) {
        discardErrorBody(err);
        const raw = rawError(err);
        const last = attempt >= attempts;
        if (!last && isAuthExpiry(raw)) {
          account.invalidate(generation);
          continue;
        }
        if (!last && (isBusy(raw) || (isNetwork(raw) && opts.idempotent !== false && !isAbortError(err)))) {
          await sleep(backoffDelay(attempt, baseDelayMs));
          continue;
        }
        throw toRequestError(operation, err);
      }
    }
  }

  /**
   * Sends one upload (b2_upload_file or b2_upload_part). Any failure B2 calls retryable — an expired upload
   * token, 408, 429, 5xx, a broken connection — throws the URL away and tries again with a new one.
   */
  async function uploadWithFreshUrls<T>(
    operation: string,
    pool: UploadUrl[],
    newUrl: () => Promise<UploadUrl>,
    send: (url: UploadUrl) => Promise<{ data: T }>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortErrorFrom(signal);
      const url = pool.pop() ?? (await newUrl());
      try {
        const { data } = await send(url);
        pool.push(url);
        return data;
      } catch (err) {
        if (signal?.aborted) throw abortErrorFrom(signal);
        const raw = rawError(err);
        const retryable = raw.status === 401 || isBusy(raw) || isNetwork(raw);
        if (attempt >= attempts || !retryable) throw toRequestError(operation, err);
        if (raw.status !== 401) await sleep(backoffDelay(attempt, baseDelayMs), signal);
      }
    }
  }

  async function uploadSmall(key: string, data: Buffer, putOptions: PutOptions): Promise<B2File> {
    const hash = sha1(data);
    return uploadWithFreshUrls(
      'b2_upload_file',
      uploadUrls,
      () => api('b2_get_upload_url', () => account.b2.getUploadUrl({ bucketId })),
      (url) =>
        account.b2.uploadFile({
          uploadUrl: url.uploadUrl,
          uploadAuthToken: url.authorizationToken,
          fileName: key,
          data,
          hash,
          contentLength: data.length,
          mime: putOptions.contentType,
          axiosOverride: { signal: putOptions.signal, maxBodyLength: Infinity },
        }),
      putOptions.signal,
    );
  }

  async function uploadLarge(key: string, first: Buffer, reader: PartReader, putOptions: PutOptions, report: (n: number) => void): Promise<B2File> {
    const { signal } = putOptions;
    const started = await api('b2_start_large_file', () => account.b2.startLargeFile({ bucketId, fileName: key, contentType: putOptions.contentType }), {
      idempotent: false,
    });
    const fileId = started.fileId;
    try {
      const partUrls: UploadUrl[] = [];
      const partSha1Array: string[] = [];
      let part = first;
      let sent = 0;
      for (let partNumber = 1; part.length > 0; partNumber++) {
        if (partNumber > 10_000) throw new Error(`${location(key)}: more than 10,000 parts of ${options.partSizeMb} MB; raise B2_PART_SIZE_MB`);
        const hash = sha1(part);
        // Read the next part while this one uploads: at most two parts in memory.
        const next = reader.read();
        next.catch(() => {});
        const data = part;
        await uploadWithFreshUrls(
          'b2_upload_part',
          partUrls,
          () => api('b2_get_upload_part_url', () => account.b2.getUploadPartUrl({ fileId })),
          (url) =>
            account.b2.uploadPart({
              uploadUrl: url.uploadUrl,
              uploadAuthToken: url.authorizationToken,
              partNumber,
              data,
              hash,
              contentLength: data.length,
              axiosOverride: { signal, maxBodyLength: Infinity },
            }),
          signal,
        );
        partSha1Array.push(hash);
        sent += data.length;
        report(sent);
        part = await next;
      }
      if (signal?.aborted) throw abortErrorFrom(signal);
      return await api('b2_finish_large_file', () => account.b2.finishLargeFile({ fileId, partSha1Array }));
    } catch (err) {
      await cancelLargeFile(fileId, key);
      throw err;
    }
  }

  /** Cancels an unfinished large file; if it got finished after all (a lost answer), deletes that version. */
  async function cancelLargeFile(fileId: string, key: string): Promise<void> {
    try {
      await api('b2_cancel_large_file', () => account.b2.cancelLargeFile({ fileId }));
    } catch {
      await deleteVersion({ fileId, fileName: key, action: 'upload' }).catch(() => {});
    }
  }

  async function deleteVersion(file: Pick<B2File, 'fileId' | 'fileName' | 'action'>): Promise<void> {
    try {
      if (file.action === 'start') await api('b2_cancel_large_file', () => account.b2.cancelLargeFile({ fileId: file.fileId }));
      else await api('b2_delete_file_version', () => account.b2.deleteFileVersion({ fileId: file.fileId, fileName: file.fileName }));
    } catch (err) {
      const raw = rawError(err);
      // Already gone (another deleter, or a retried call that had succeeded): that is the goal.
      if (!(raw.status === 404 || raw.code === 'file_not_present' || raw.code === 'not_found')) throw err;
    }
  }

  async function put(key: string, body: Readable | Buffer, putOptions: PutOptions = {}): Promise<{ size: number }> {
    const { signal } = putOptions;
    let stored: B2File | undefined;
    return framedPut(body, partSize, putOptions, async (reader, progress) => {
      const first = await reader.read();
      stored = (await reader.atEnd())
        ? await uploadSmall(key, first, putOptions)
        : await uploadLarge(key, first, reader, putOptions, (n) => progress.report(n));
      // The signal fired while the last request was in flight: the file became visible, take it back.
      if (signal?.aborted) throw abortErrorFrom(signal);
      const size = reader.bytesRead;
      if (stored.contentLength !== size) throw new SizeMismatchError(location(key), size, stored.contentLength);
      progress.finish(size);
      return { size };
    }, async () => {
      if (stored) await deleteVersion(stored).catch(() => {});
    });
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    const headers = range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {};
    try {
      return await api('b2_download_file_by_name', async () => {
        try {
          return await account.b2.downloadFileByName({ bucketName, fileName: key, responseType: 'stream', axiosOverride: { headers } });
        } catch (err) {
          await readStreamedErrorBody(err);
          throw err;
        }
      });
    } catch (err) {
      if (rawError(err).status === 404) throw new ObjectNotFoundError(location(key));
      throw err;
    }
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    const page = await api('b2_list_file_names', () => account.b2.listFileNames({ bucketId, prefix: key, startFileName: key, maxFileCount: 1 }));
    const file = page.files[0];
    if (!file || file.fileName !== key || file.action !== 'upload') return null;
    return { key, size: file.contentLength, lastModified: new Date(file.uploadTimestamp) };
  }

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    let startFileName: string | null = '';
    do {
      const start: string = startFileName ?? '';
      const page = await api('b2_list_file_names', () => account.b2.listFileNames({ bucketId, prefix, startFileName: start, maxFileCount: pageSize }));
      for (const f of page.files) {
        if (f.action === 'upload') yield { key: f.fileName, size: f.contentLength, lastModified: new Date(f.uploadTimestamp) };
      }
      startFileName = page.nextFileName;
    } while (startFileName);
  }

  /** Deletes every version of key — uploads, hide markers, unfinished large files — until none remain. */
  async function del(key: string): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const page = await api('b2_list_file_versions', () =>
        account.b2.listFileVersions({ bucketId, startFileName: key, maxFileCount: 1000, axiosOverride: { data: { prefix: key } } }),
      );
      const versions = page.files.filter((f) => f.fileName === key);
      if (versions.length === 0) return;
      for (const v of versions) await deleteVersion(v);
    }
    throw new Error(`${location(key)}: versions keep appearing while deleting`);
  }

  const store: B2Store = {
    tier: 'b2_cold',
    bucket: bucketName,
    location,
    put,
    get,
    head,
    list,
    delete: del,
    isNotFound(err) {
      if (err instanceof ObjectNotFoundError) return true;
      const raw = rawError(err);
      return raw.status === 404 || raw.code === 'file_not_present';
    },
    isPermanent(err) {
      if (store.isNotFound(err) || isAbortError(err)) return true;
      const raw = rawError(err);
      if (isAuthExpiry(raw)) return false;
      return isPermanentStatus(raw.status);
    },
  };
  return store satisfies ObjectStore;
}
