// The part of the `backblaze-b2` 1.7.1 package Strata uses (it ships no types). Every call resolves to the
// axios response; `data` is B2's JSON answer (or a stream for downloads with responseType 'stream').
declare module 'backblaze-b2' {
  import type { Readable } from 'node:stream';

  interface AxiosLikeResponse<T> {
    status: number;
    headers: Record<string, string | undefined>;
    data: T;
  }
  /** Extra axios options merged into (`axios`) or over (`axiosOverride`) the request the package builds. */
  interface AxiosArgs {
    axios?: Record<string, unknown>;
    axiosOverride?: Record<string, unknown>;
  }

  export interface B2File {
    fileId: string;
    fileName: string;
    action: 'upload' | 'hide' | 'start' | 'folder' | 'copy';
    contentLength: number;
    contentSha1?: string | null;
    uploadTimestamp: number;
  }
  export interface UploadUrl {
    uploadUrl: string;
    authorizationToken: string;
  }

  class B2 {
    constructor(options: { applicationKeyId: string; applicationKey: string; axios?: Record<string, unknown>; retry?: Record<string, unknown> });
    authorizationToken: string | null;
    apiUrl: string | null;
    downloadUrl: string | null;
    accountId: string | null;
    authorize(args?: AxiosArgs): Promise<AxiosLikeResponse<{ authorizationToken: string; apiUrl: string; downloadUrl: string; accountId: string }>>;
    getUploadUrl(args: { bucketId: string } & AxiosArgs): Promise<AxiosLikeResponse<UploadUrl & { bucketId: string }>>;
    uploadFile(
      args: { uploadUrl: string; uploadAuthToken: string; fileName: string; data: Buffer; hash: string; mime?: string; contentLength?: number; info?: Record<string, string> } & AxiosArgs,
    ): Promise<AxiosLikeResponse<B2File>>;
    startLargeFile(args: { bucketId: string; fileName: string; contentType?: string } & AxiosArgs): Promise<AxiosLikeResponse<B2File>>;
    getUploadPartUrl(args: { fileId: string } & AxiosArgs): Promise<AxiosLikeResponse<UploadUrl & { fileId: string }>>;
    uploadPart(
      args: { uploadUrl: string; uploadAuthToken: string; partNumber: number; data: Buffer; hash: string; contentLength?: number } & AxiosArgs,
    ): Promise<AxiosLikeResponse<{ fileId: string; partNumber: number; contentLength: number; contentSha1: string }>>;
    finishLargeFile(args: { fileId: string; partSha1Array: string[] } & AxiosArgs): Promise<AxiosLikeResponse<B2File>>;
    cancelLargeFile(args: { fileId: string } & AxiosArgs): Promise<AxiosLikeResponse<{ fileId: string; fileName: string }>>;
    listFileNames(
      args: { bucketId: string; startFileName?: string; maxFileCount?: number; prefix?: string; delimiter?: string } & AxiosArgs,
    ): Promise<AxiosLikeResponse<{ files: B2File[]; nextFileName: string | null }>>;
    listFileVersions(
      args: { bucketId: string; startFileName?: string; startFileId?: string; maxFileCount?: number } & AxiosArgs,
    ): Promise<AxiosLikeResponse<{ files: B2File[]; nextFileName: string | null; nextFileId: string | null }>>;
    deleteFileVersion(args: { fileId: string; fileName: string } & AxiosArgs): Promise<AxiosLikeResponse<{ fileId: string; fileName: string }>>;
    downloadFileByName(
      args: { bucketName: string; fileName: string; responseType?: 'stream' | 'arraybuffer' } & AxiosArgs,
    ): Promise<AxiosLikeResponse<Readable>>;
  }
  export default B2;
}
