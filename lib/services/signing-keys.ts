// An Ed25519 manifest-signing key pair for the demo, `npm run services` and tests (production keys are
// the operator's: README "Signed backups"). Like the age identity: created once, private key 0600.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateSigningKeyPair } from '../backup/signing.ts';

export interface SigningKeyPair {
  /** STRATA_SIGNING_KEY_FILE: the PKCS#8 PEM private key. */
  keyFile: string;
  /** The SPKI PEM public key file (what `openssl pkeyutl -verify -pubin -inkey` takes). */
  publicKeyFile: string;
  /** STRATA_VERIFY_KEYS: the public key as base64 SPKI DER. */
  publicKeyBase64: string;
}

/** Creates `<dir>/<name>.pem` and `<dir>/<name>.pub.pem` unless the private key exists; returns both. */
export function ensureSigningKeyPair(dir: string, name = 'signing-key'): SigningKeyPair {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, `${name}.pem`);
  const publicKeyFile = path.join(dir, `${name}.pub.pem`);
  if (!fs.existsSync(keyFile)) {
    const pair = generateSigningKeyPair();
    // wx: never overwrite a key another process just wrote.
    fs.writeFileSync(keyFile, pair.privatePem, { mode: 0o600, flag: 'wx' });
  }
  fs.chmodSync(keyFile, 0o600);
  const publicKey = crypto.createPublicKey(fs.readFileSync(keyFile, 'utf8'));
  fs.writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  return { keyFile, publicKeyFile, publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}
