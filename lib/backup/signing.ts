// Manifest signatures: Ed25519 (node:crypto), detached. `manifest.json.sig` holds the 64 raw signature
// bytes over the exact bytes of `manifest.json`, so `openssl pkeyutl -verify -pubin -inkey pub.pem
// -rawin -in manifest.json -sigfile manifest.json.sig` checks it without Strata (README, DR runbook).
// The private key (STRATA_SIGNING_KEY_FILE) stays on the workers and never goes to a bucket; restores
// accept the public keys of STRATA_VERIFY_KEYS (or, unset, the signing key's own public key).
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../env.ts';

/** Ed25519 signatures are always 64 bytes. */
export const SIGNATURE_BYTES = 64;

/** A signing or verify key is missing, unreadable or not Ed25519: a configuration error, never a silent skip. */
export class SigningConfigError extends Error {
  override name = 'SigningConfigError';
}

export interface VerifyKey {
  /** sha256 of the SPKI DER, first 16 hex digits: names the key in messages and logs. */
  id: string;
  key: KeyObject;
}

export function keyId(publicKey: KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

function asEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningConfigError(`${what} is a ${key.asymmetricKeyType ?? key.type} key, not an Ed25519 key`);
  }
  return key;
}

/** The Ed25519 private key of a PKCS#8 PEM file (STRATA_SIGNING_KEY_FILE). */
export function loadSigningKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SigningConfigError(`STRATA_SIGNING_KEY_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SigningConfigError(`STRATA_SIGNING_KEY_FILE ${file} is not a PEM private key`);
  }
  return asEd25519(key, `STRATA_SIGNING_KEY_FILE ${file}`);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** One STRATA_VERIFY_KEYS entry: base64 SPKI DER (`MCowBQYDK2VwAyEA…`) or the path of a PEM public key file. */
export function parseVerifyKey(entry: string): VerifyKey {
  let key: KeyObject | undefined;
  if (BASE64.test(entry)) {
    try {
      key = crypto.createPublicKey({ key: Buffer.from(entry, 'base64'), format: 'der', type: 'spki' });
    } catch {
      key = undefined; // not DER: perhaps a relative path made of base64 characters
    }
  }
  if (!key) {
    let pem: string;
    try {
      pem = fs.readFileSync(entry, 'utf8');
    } catch {
      throw new SigningConfigError(`STRATA_VERIFY_KEYS entry ${JSON.stringify(entry)} is neither a base64 SPKI public key nor a readable PEM file`);
    }
    try {
      key = crypto.createPublicKey({ key: pem, format: 'pem' });
    } catch {
      throw new SigningConfigError(`STRATA_VERIFY_KEYS file ${entry} holds no PEM public key`);
    }
  }
  asEd25519(key, `STRATA_VERIFY_KEYS entry ${JSON.stringify(entry.length > 60 ? `${entry.slice(0, 57)}...` : entry)}`);
  return { id: keyId(key), key };
}

/** The private key that signs manifests; throws a clear configuration error when there is none. */
export function signingKeyOf(config: Pick<Config, 'STRATA_SIGNING_KEY_FILE'>): KeyObject {
  if (!config.STRATA_SIGNING_KEY_FILE) {
    throw new SigningConfigError(
      'STRATA_SIGNING_KEY_FILE is not set: every backup manifest is signed, so a worker that takes backups needs the Ed25519 signing key (see README, "Signed backups")',
    );
  }
  return loadSigningKey(config.STRATA_SIGNING_KEY_FILE);
}

/** The keys a manifest's signature may come from: STRATA_VERIFY_KEYS, else the signing key's public key. */
export function verifyKeysOf(config: Pick<Config, 'STRATA_SIGNING_KEY_FILE' | 'STRATA_VERIFY_KEYS'>): VerifyKey[] {
  if (config.STRATA_VERIFY_KEYS) {
    const entries = config.STRATA_VERIFY_KEYS.split(',').map((s) => s.trim()).filter(Boolean);
    if (entries.length === 0) throw new SigningConfigError('STRATA_VERIFY_KEYS lists no key');
    return entries.map(parseVerifyKey);
  }
  if (config.STRATA_SIGNING_KEY_FILE) {
    const pub = crypto.createPublicKey(loadSigningKey(config.STRATA_SIGNING_KEY_FILE));
    return [{ id: keyId(pub), key: pub }];
  }
  throw new SigningConfigError(
    'neither STRATA_VERIFY_KEYS nor STRATA_SIGNING_KEY_FILE is set: a backup is read only when its manifest signature verifies with a known key',
  );
}

/** The detached signature of manifest bytes. */
export function signManifest(manifest: Buffer, privateKey: KeyObject): Buffer {
  return crypto.sign(null, manifest, privateKey);
}

/** The key that signed `manifest` with `signature`, or null when none of `keys` did (unknown key or altered bytes). */
export function verifyManifest(manifest: Buffer, signature: Buffer, keys: VerifyKey[]): VerifyKey | null {
  if (signature.length !== SIGNATURE_BYTES) return null;
  return keys.find((k) => crypto.verify(null, manifest, k.key, signature)) ?? null;
}

/** A fresh Ed25519 key pair as PEM (PKCS#8 private, SPKI public) and the base64 SPKI DER for STRATA_VERIFY_KEYS. */
export function generateSigningKeyPair(): { privatePem: string; publicPem: string; publicBase64: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}
