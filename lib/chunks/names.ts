// How chunks of incremental backups are named (design.md "Incremental backups"). A chunk is named
// by a keyed hash of its plaintext (HMAC-SHA256 under a per-tenant key), never by the plaintext's
// own hash: someone holding only the bucket keys cannot test whether a tenant stores a known
// document. The object key adds a random suffix, so two uploads of one content never share a key
// (a collector deleting an old copy cannot delete a fresh one).
import crypto from 'node:crypto';
import { BACKUPS_ROOT, TENANT_ID_RE } from '../domain.ts';

const MAC_RE = /^[0-9a-f]{64}$/;
const NONCE_RE = /^[0-9a-f]{16}$/;

/** The key naming one tenant's chunks, derived from a secret that never goes to a bucket. */
export function chunkNamingKey(secret: Buffer, tenantId: string): Buffer {
  if (secret.length < 32) throw new RangeError('the chunk naming secret must be at least 32 bytes');
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.from(tenantId, 'utf8'), 'strata chunk names v1', 32));
}

/** HMAC-SHA256 of the chunk's plaintext under the tenant's naming key, hex. */
export function chunkMac(namingKey: Buffer, plaintext: Buffer): string {
  return crypto.createHmac('sha256', namingKey).update(plaintext).digest('hex');
}

/** The prefix holding every chunk object of one tenant: `backups/<tenant-id>/chunks/`. */
export function chunksPrefix(tenantId: string): string {
  return `${BACKUPS_ROOT}${tenantId}/chunks/`;
}

/** `backups/<tenant-id>/chunks/<mac[0..2]>/<mac>-<16 hex random>`. */
export function chunkObjectKey(tenantId: string, mac: string, nonce = crypto.randomBytes(8).toString('hex')): string {
  if (!TENANT_ID_RE.test(tenantId)) throw new RangeError(`not a tenant id: ${JSON.stringify(tenantId)}`);
  if (!MAC_RE.test(mac)) throw new RangeError('a chunk mac is 64 lowercase hex digits');
  if (!NONCE_RE.test(nonce)) throw new RangeError('a chunk key suffix is 16 lowercase hex digits');
  return `${chunksPrefix(tenantId)}${mac.slice(0, 2)}/${mac}-${nonce}`;
}

/** The parts of a chunk object key, or null for any other key. */
export function parseChunkKey(key: string): { tenantId: string; mac: string; nonce: string } | null {
  const m = /^backups\/([^/]+)\/chunks\/([0-9a-f]{2})\/([0-9a-f]{64})-([0-9a-f]{16})$/.exec(key);
  if (!m || !TENANT_ID_RE.test(m[1]!) || m[3]!.slice(0, 2) !== m[2]) return null;
  return { tenantId: m[1]!, mac: m[3]!, nonce: m[4]! };
}
