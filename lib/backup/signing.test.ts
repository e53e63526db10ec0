import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  generateSigningKeyPair,
  loadSigningKey,
  parseVerifyKey,
  signManifest,
  signingKeyOf,
  SigningConfigError,
  verifyKeysOf,
  verifyManifest,
} from './signing.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-signing-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function pair(name: string) {
  const p = generateSigningKeyPair();
  const keyFile = path.join(dir, `${name}.pem`);
  const pubFile = path.join(dir, `${name}.pub.pem`);
  fs.writeFileSync(keyFile, p.privatePem, { mode: 0o600 });
  fs.writeFileSync(pubFile, p.publicPem);
  return { ...p, keyFile, pubFile };
}

const manifest = Buffer.from('{\n  "format_version": 1\n}\n');

describe('manifest signatures', () => {
  const a = pair('a');
  const b = pair('b');

  it('verifies with the signing key and names it; refuses altered bytes, another key and a wrong-length signature', () => {
    const sig = signManifest(manifest, loadSigningKey(a.keyFile));
    assert.equal(sig.length, 64);
    const keys = [parseVerifyKey(b.publicBase64), parseVerifyKey(a.pubFile)];
    assert.equal(verifyManifest(manifest, sig, keys)?.id, keys[1]!.id);
    assert.equal(verifyManifest(Buffer.concat([manifest, Buffer.from(' ')]), sig, keys), null);
    assert.equal(verifyManifest(manifest, sig, [parseVerifyKey(b.publicBase64)]), null);
    assert.equal(verifyManifest(manifest, sig.subarray(0, 63), keys), null);
    assert.equal(verifyManifest(manifest, Buffer.alloc(0), keys), null);
  });

  it('reads STRATA_VERIFY_KEYS as base64 SPKI or PEM paths, comma-separated; falls back to the signing key', () => {
    const both = verifyKeysOf({ STRATA_VERIFY_KEYS: ` ${a.publicBase64} , ${b.pubFile}` });
    assert.equal(both.length, 2);
    assert.notEqual(both[0]!.id, both[1]!.id);
    const own = verifyKeysOf({ STRATA_SIGNING_KEY_FILE: a.keyFile });
    assert.equal(own.length, 1);
    assert.equal(own[0]!.id, parseVerifyKey(a.publicBase64).id);
    assert.throws(() => verifyKeysOf({}), SigningConfigError);
  });

  it('refuses a missing signing key, a non-Ed25519 key and an unreadable verify key with configuration errors', () => {
    assert.throws(() => signingKeyOf({}), /STRATA_SIGNING_KEY_FILE is not set/);
    assert.throws(() => signingKeyOf({ STRATA_SIGNING_KEY_FILE: path.join(dir, 'nope.pem') }), /cannot be read/);
    const rsa = spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', path.join(dir, 'rsa.pem')]);
    assert.equal(rsa.status, 0);
    assert.throws(() => loadSigningKey(path.join(dir, 'rsa.pem')), /not an Ed25519 key/);
    assert.throws(() => parseVerifyKey('not-a-key'), /neither a base64 SPKI public key nor a readable PEM file/);
  });

  it('is checkable with openssl pkeyutl, with pub.pem derived from STRATA_VERIFY_KEYS as the README says', () => {
    const m = path.join(dir, 'manifest.json');
    fs.writeFileSync(m, manifest);
    fs.writeFileSync(`${m}.sig`, signManifest(manifest, loadSigningKey(a.keyFile)));
    // README: echo "$KEY" | base64 -d | openssl pkey -pubin -inform DER -out pub.pem
    const der = path.join(dir, 'pub.der');
    fs.writeFileSync(der, Buffer.from(a.publicBase64, 'base64'));
    const pub = path.join(dir, 'pub.pem');
    assert.equal(spawnSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-in', der, '-out', pub]).status, 0);
    const ok = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', m, '-sigfile', `${m}.sig`], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Signature Verified Successfully/);
    fs.appendFileSync(m, ' ');
    const bad = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', m, '-sigfile', `${m}.sig`], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });
});
