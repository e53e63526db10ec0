// The file index's pure rules: the prefix of a tenant, what an admin may name as a prefix, and what
// makes an index read back from a bucket unusable against its signed manifest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkObjectKey } from '../chunks/names.ts';
import {
  distinctChunks,
  filesIndexProblems,
  filesPrefixSchema,
  parseFilesChunks,
  parseFilesIndex,
  tenantFilesPrefix,
  FILES_INDEX_FORMAT,
  type FileEntry,
  type FilesIndex,
  type ManifestFiles,
} from './index-format.ts';

const mac = (n: number) => n.toString(16).padStart(64, '0');
const chunk = (tenant: string, n: number, plain: number) => ({ key: chunkObjectKey(tenant, mac(n), 'ab'.repeat(8)), plain_bytes: plain, stored_bytes: plain + 200, sha256_stored: mac(n + 1000) });
const file = (key: string, chunks: FileEntry['chunks']): FileEntry => ({
  key,
  size: chunks.reduce((n, c) => n + c.plain_bytes, 0),
  etag: 'e',
  sha256: mac(7),
  last_modified: '2026-12-01T00:00:00.000Z',
  content_type: null,
  metadata: {},
  chunks,
});

function fixture(): { index: FilesIndex; summary: ManifestFiles } {
  const files = [file('a.pdf', [chunk('t1', 1, 100), chunk('t1', 2, 50)]), file('b/c.txt', [chunk('t1', 1, 100)]), file('empty', [])];
  const index: FilesIndex = { format: FILES_INDEX_FORMAT, backup_id: 'b1', tenant_id: 't1', prefix: 'tenants/t1/', files };
  const summary: ManifestFiles = {
    index_key: 'k',
    prefix: 'tenants/t1/',
    count: 3,
    bytes: 250,
    stored_bytes: 0,
    sha256_stored: mac(3),
    index_plain_bytes: 1,
    chunks_key: 'c',
    chunks_count: 2,
    chunks_sha256: mac(4),
  };
  return { index, summary };
}

describe('file index', () => {
  it("resolves a tenant's prefix from the template or its override", () => {
    assert.equal(tenantFilesPrefix('tenants/{tenant_id}/', 'acme'), 'tenants/acme/');
    assert.equal(tenantFilesPrefix('x/{tenant_id}/{tenant_id}/', 'a'), 'x/a/a/');
    assert.equal(tenantFilesPrefix('tenants/{tenant_id}/', 'acme', 'legacy/acme-docs/'), 'legacy/acme-docs/');
  });

  it('accepts only relative prefixes ending with a slash, without ..', () => {
    assert.ok(filesPrefixSchema.safeParse('clones/acme/').success);
    for (const bad of ['clones/acme', '/abs/', 'a/../b/', '', '/']) assert.equal(filesPrefixSchema.safeParse(bad).success, false, bad);
  });

  it('an index matching its manifest has no problems', () => {
    const { index, summary } = fixture();
    assert.deepEqual(filesIndexProblems(index, summary, 'b1', 't1'), []);
    assert.deepEqual(parseFilesIndex(JSON.stringify(index)), index);
  });

  it("names every way an index differs from its manifest: another backup or tenant, counts, sizes, another tenant's chunks", () => {
    const { index, summary } = fixture();
    assert.match(filesIndexProblems(index, summary, 'b2', 't1').join(), /belongs to backup b1, not b2/);
    assert.match(filesIndexProblems(index, { ...summary, count: 4 }, 'b1', 't1').join(), /lists 3 files, the manifest 4/);
    assert.match(filesIndexProblems(index, { ...summary, bytes: 1 }, 'b1', 't1').join(), /add up to 250 bytes/);
    const foreign = { ...index, files: [...index.files.slice(0, 2), file('empty', [chunk('t2', 9, 0 + 1)])] };
    assert.match(filesIndexProblems(foreign, { ...summary, bytes: 251 }, 'b1', 't1').join(), /not one of tenant t1's/);
    const lying = { ...index, files: [{ ...index.files[0]!, size: 10 }, ...index.files.slice(1)] };
    assert.match(filesIndexProblems(lying, { ...summary, bytes: 160 }, 'b1', 't1').join(), /a\.pdf: its chunks hold 150 bytes, the file 10/);
    const twice = { ...index, files: [index.files[0]!, index.files[0]!, index.files[2]!] };
    assert.match(filesIndexProblems(twice, { ...summary, bytes: 300 }, 'b1', 't1').join(), /lists a\.pdf twice/);
  });

  it('rejects an index or chunk list that is not the format', () => {
    assert.throws(() => parseFilesIndex('{"format":"other"}'), /file index format/);
    assert.throws(() => parseFilesIndex('not json'), /not JSON/);
    assert.throws(() => parseFilesChunks('[{"key":"x"}]'), /files-chunks\.json 0\.key/);
  });

  it('lists each chunk once, in key order', () => {
    const { index } = fixture();
    const chunks = distinctChunks(index.files);
    assert.equal(chunks.length, 2);
    assert.deepEqual(parseFilesChunks(JSON.stringify(chunks)), chunks);
    assert.ok(chunks[0]!.key < chunks[1]!.key);
  });
});
