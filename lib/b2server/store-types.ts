// Metadata records as persisted in `<dir>/meta.json`. Field names follow B2's JSON where one exists.

export type BucketType = 'allPrivate' | 'allPublic';

export interface BucketRecord {
  bucketId: string;
  bucketName: string;
  bucketType: BucketType;
  revision: number;
}

/** "start" is an unfinished large file; it becomes "upload" when finished. */
export type FileAction = 'upload' | 'hide' | 'start';

export interface PartRecord {
  contentLength: number;
  contentSha1: string;
}

export interface FileRecord {
  fileId: string;
  /** Creation order; breaks ties between versions with the same name (newest first). */
  seq: number;
  bucketId: string;
  fileName: string;
  action: FileAction;
  contentLength: number;
  contentSha1: string;
  contentType: string;
  fileInfo: Record<string, string>;
  uploadTimestamp: number;
  /** Only for action "start": uploaded parts by part number. */
  parts?: Record<string, PartRecord>;
}

export interface MetaFile {
  formatVersion: 1;
  accountId: string;
  nextSeq: number;
  lastTimestamp: number;
  buckets: BucketRecord[];
  files: FileRecord[];
}
