// b2_authorize_account and the bucket calls.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Call } from '../context.ts';
import { B2Error, badRequest, unauthorized } from '../errors.ts';
import { bucketJson } from '../file-json.ts';
import { header, type Params } from '../http.ts';
import type { BucketType } from '../store-types.ts';

// Same numbers as real B2 (decimal megabytes).
export const RECOMMENDED_PART_SIZE = 100 * 1000 * 1000;
export const ABSOLUTE_MINIMUM_PART_SIZE = 5 * 1000 * 1000;

const CAPABILITIES = [
  'listKeys', 'writeKeys', 'deleteKeys', 'listBuckets', 'listAllBucketNames', 'readBuckets', 'writeBuckets', 'deleteBuckets',
  'readBucketEncryption', 'writeBucketEncryption', 'readBucketRetentions', 'writeBucketRetentions', 'readFileRetentions',
  'writeFileRetentions', 'readFileLegalHolds', 'writeFileLegalHolds', 'readBucketReplications', 'writeBucketReplications',
  'bypassGovernance', 'listFiles', 'readFiles', 'shareFiles', 'writeFiles', 'deleteFiles',
];

const BUCKET_NAME = /^[A-Za-z0-9-]{6,50}$/;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when the request carries `Authorization: Basic base64(keyId:key)` with the server's key. */
export function hasMasterKey(req: IncomingMessage, keyId: string, key: string): boolean {
  const value = header(req, 'authorization') ?? '';
  const m = /^Basic\s+(\S+)$/i.exec(value);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 && same(decoded.slice(0, colon), keyId) && same(decoded.slice(colon + 1), key);
}

export function authorizeAccount(call: Call): Record<string, unknown> {
  const { state, req, base } = call;
  if (!/^Basic\s/i.test(header(req, 'authorization') ?? '')) throw unauthorized('Basic authorization with application key id and key is required');
  if (!hasMasterKey(req, state.keyId, state.key)) throw unauthorized('application key id or key is wrong');
  return {
    accountId: state.store.accountId,
    authorizationToken: state.tokens.issueAccountToken(),
    apiUrl: base,
    downloadUrl: base,
    s3ApiUrl: base,
    recommendedPartSize: RECOMMENDED_PART_SIZE,
    absoluteMinimumPartSize: ABSOLUTE_MINIMUM_PART_SIZE,
    // Deprecated by B2 but still sent, always equal to recommendedPartSize.
    minimumPartSize: RECOMMENDED_PART_SIZE,
    allowed: { bucketId: null, bucketName: null, capabilities: CAPABILITIES, namePrefix: null },
  };
}

function checkAccountId(call: Call, p: Params): void {
  const accountId = p.string('accountId');
  if (accountId !== call.state.store.accountId) throw unauthorized(`accountId ${accountId} does not match the authorization token`);
}

export function listBuckets(call: Call, p: Params): Record<string, unknown> {
  checkAccountId(call, p);
  const { store } = call.state;
  const bucketId = p.optionalString('bucketId');
  const bucketName = p.optionalString('bucketName');
  const buckets = store.listBuckets().filter((b) => (!bucketId || b.bucketId === bucketId) && (!bucketName || b.bucketName === bucketName));
  return { buckets: buckets.map((b) => bucketJson(store, b)) };
}

export function parseBucketType(value: string): BucketType {
  if (value !== 'allPrivate' && value !== 'allPublic') throw badRequest(`bucketType must be allPrivate or allPublic, not ${JSON.stringify(value)}`);
  return value;
}

export function checkBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.toLowerCase().startsWith('b2-')) {
    throw badRequest(`Invalid bucket name ${JSON.stringify(name)}: 6 to 50 letters, digits and "-", not starting with "b2-"`);
  }
}

export async function createBucket(call: Call, p: Params): Promise<Record<string, unknown>> {
  checkAccountId(call, p);
  const { store } = call.state;
  const bucketName = p.string('bucketName');
  const bucketType = parseBucketType(p.string('bucketType'));
  checkBucketName(bucketName);
  if (store.bucketByName(bucketName)) throw new B2Error(400, 'duplicate_bucket_name', 'Bucket name is already in use.');
  const bucket = store.createBucket(bucketName, bucketType);
  await store.persist();
  return bucketJson(store, bucket);
}

export async function deleteBucket(call: Call, p: Params): Promise<Record<string, unknown>> {
  checkAccountId(call, p);
  const { store } = call.state;
  const bucket = store.bucketById(p.string('bucketId'));
  if (!bucket) throw badRequest('Bucket does not exist');
  if (!store.bucketIsEmpty(bucket.bucketId)) throw new B2Error(400, 'cannot_delete_non_empty_bucket', 'Cannot delete non-empty bucket');
  store.deleteBucket(bucket.bucketId);
  await store.persist();
  return bucketJson(store, bucket);
}
