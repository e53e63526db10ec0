// The age v1 file format (https://age-encryption.org/v1, c2sp.org/age) for X25519 recipients,
// in-process with node:crypto only: no process per chunk, and every file stays decryptable with
// the standard `age` CLI (`age -d -i identity.txt`) for disaster recovery.
//
//   header  = "age-encryption.org/v1\n" ( "-> X25519 " b64(share) "\n" b64(wrapped file key) "\n" )+ "--- " b64(mac) "\n"
//   payload = nonce(16) || ChaCha20-Poly1305 chunks of 64 KiB (STREAM: nonce = 11-byte BE counter || last flag)
//
// Decryption is strict: canonical unpadded base64, exact stanza grammar, bounded header, header MAC
// checked before any payload byte is released, and truncation / trailing data / empty final chunks
// rejected. Every failure is an AgeError whose message never contains key material.
import crypto, { type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Any failure to parse a key, encrypt, or decrypt. Messages are short and never contain key material. */
export class AgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgeError';
  }
}

const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const FILE_KEY_SIZE = 16;
const NONCE_SIZE = 16;
const TAG_SIZE = 16;
const CHUNK_SIZE = 64 * 1024;
const ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
const COLUMNS = 64;
/** A header (version line to MAC line) longer than this is rejected; ours are ~100 bytes per recipient. */
export const MAX_HEADER_SIZE = 64 * 1024;

// ───────────────────────────── Bech32 (BIP-173, not bech32m; no length limit, as age specifies) ─────────────────────────────

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: Uint8Array | number[], from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    throw new AgeError('invalid bech32 padding');
  }
  return out;
}

/** Encodes bytes as lowercase bech32 (callers upper-case identities). */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const lower = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true);
  const mod = polymod([...hrpExpand(lower), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${lower}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/** Decodes bech32 with checksum validation; the returned HRP is lowercase. Mixed case is rejected. */
export function bech32Decode(s: string): { hrp: string; data: Buffer } {
  const lower = s.toLowerCase();
  if (s !== lower && s !== s.toUpperCase()) throw new AgeError('invalid bech32: mixed case');
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep + 7 > lower.length) throw new AgeError('invalid bech32: bad separator position');
  const hrp = lower.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new AgeError('invalid bech32: bad character in prefix');
  }
  const words: number[] = [];
  for (const ch of lower.slice(sep + 1)) {
    const w = CHARSET.indexOf(ch);
    if (w < 0) throw new AgeError('invalid bech32: bad character');
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) throw new AgeError('invalid bech32: checksum mismatch');
  return { hrp, data: Buffer.from(convertBits(words.slice(0, -6), 5, 8, false)) };
}

// ───────────────────────────── Keys ─────────────────────────────

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';

// JWK import/export: with OpenSSL 3, DER (de)coding of X25519 keys costs ~100 µs, JWK ~2-10 µs.
function publicKeyObject(raw: Buffer): KeyObject {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}
function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

interface IdentitySecret {
  privateKey: KeyObject;
  publicKey: Buffer;
}
/** Key material lives here, not on the Identity object, so logging or serializing an Identity leaks nothing. */
const secrets = new WeakMap<Identity, IdentitySecret>();

/** An age X25519 identity (secret key). Opaque: only its public recipient is visible. */
export class Identity {
  readonly type = 'X25519' as const;
  /** The matching `age1…` recipient. */
  readonly recipient: string;
  private constructor(secret: IdentitySecret) {
    this.recipient = bech32Encode(RECIPIENT_HRP, secret.publicKey);
    secrets.set(this, secret);
    Object.freeze(this);
  }
  /** @internal */
  static fromSecret(raw: Buffer): Identity {
    const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
    return new Identity({ privateKey, publicKey: rawPublicKey(crypto.createPublicKey(privateKey)) });
  }
  toString(): string {
    return `age X25519 identity for ${this.recipient}`;
  }
  toJSON(): { type: 'X25519'; recipient: string } {
    return { type: this.type, recipient: this.recipient };
  }
}

/** Parses one `AGE-SECRET-KEY-1…` string. */
export function parseIdentity(text: string): Identity {
  const s = text.trim();
  if (/^AGE-PLUGIN-/i.test(s)) throw new AgeError('age plugin identities are not supported');
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(s);
  } catch (err) {
    throw new AgeError(`malformed age secret key (${(err as Error).message})`);
  }
  if (decoded.hrp !== IDENTITY_HRP) throw new AgeError('not an age X25519 secret key (AGE-SECRET-KEY-1…)');
  if (decoded.data.length !== 32) throw new AgeError('malformed age secret key: wrong length');
  return Identity.fromSecret(decoded.data);
}

/**
 * Parses an identity file in age-keygen format: `#` comment lines, blank lines, and one
 * `AGE-SECRET-KEY-1…` per line. Any other line is an error (reported by line number only).
 */
export function parseIdentityFile(text: string): Identity[] {
  const identities: Identity[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      identities.push(parseIdentity(line));
    } catch (err) {
      throw new AgeError(`identity file line ${i + 1}: ${(err as Error).message}`);
    }
  }
  if (identities.length === 0) throw new AgeError('no identities found in identity file');
  return identities;
}

/** The `age1…` recipient (public key) of an identity. */
export function recipientOf(identity: Identity): string {
  return identity.recipient;
}

/** A fresh random identity, and its `AGE-SECRET-KEY-1…` encoding (as age-keygen writes it). */
export function generateIdentity(): { identity: Identity; secretKey: string } {
  const raw = crypto.randomBytes(32);
  return { identity: Identity.fromSecret(raw), secretKey: bech32Encode(IDENTITY_HRP, raw).toUpperCase() };
}

/** A parsed `age1…` recipient. */
export interface Recipient {
  key: KeyObject;
  raw: Buffer;
}
const recipientCache = new Map<string, Recipient>();

/** Parses an `age1…` X25519 recipient (cached: the same few recipients encrypt thousands of chunks). */
export function parseRecipient(text: string): Recipient {
  const cached = recipientCache.get(text);
  if (cached) return cached;
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(text.trim());
  } catch (err) {
    throw new AgeError(`malformed age recipient (${(err as Error).message})`);
  }
  if (decoded.hrp !== RECIPIENT_HRP) throw new AgeError('not an age X25519 recipient (age1…)');
  if (decoded.data.length !== 32) throw new AgeError('malformed age recipient: wrong length');
  const recipient = { key: publicKeyObject(decoded.data), raw: decoded.data };
  if (recipientCache.size >= 256) recipientCache.clear();
  recipientCache.set(text, recipient);
  return recipient;
}

// ───────────────────────────── Primitives ─────────────────────────────

const ZERO_NONCE = Buffer.alloc(12);
const ZERO_32 = Buffer.alloc(32);

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 32));
}

/** ChaCha20-Poly1305 seal into `out` at `offset`; returns the bytes written (plaintext + tag). */
function sealInto(key: KeyObject, nonce: Buffer, plaintext: Buffer, out: Buffer, offset: number): number {
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  const ct = cipher.update(plaintext);
  ct.copy(out, offset);
  cipher.final();
  cipher.getAuthTag().copy(out, offset + ct.length);
  return ct.length + TAG_SIZE;
}

function seal(key: KeyObject, nonce: Buffer, plaintext: Buffer): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + TAG_SIZE);
  sealInto(key, nonce, plaintext, out, 0);
  return out;
}

/** ChaCha20-Poly1305 open; null when authentication fails. */
function open(key: KeyObject, nonce: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG_SIZE) return null;
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const pt = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return pt;
}

function secretKey(raw: Buffer): KeyObject {
  return crypto.createSecretKey(raw);
}

function chunkNonce(counter: number, last: boolean): Buffer {
  if (!Number.isSafeInteger(counter)) throw new AgeError('payload too large');
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 3);
  nonce.writeUInt32BE(counter >>> 0, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function b64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

/** Strict unpadded, canonical standard base64 (RFC 4648 §3.5); null when not. */
function b64decode(s: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return null;
  const data = Buffer.from(s, 'base64');
  return b64(data) === s ? data : null;
}

// ───────────────────────────── Header ─────────────────────────────

/** A recipient stanza: `-> type args…` and its decoded body. */
export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

function formatStanza(stanza: Stanza): string {
  let text = `-> ${[stanza.type, ...stanza.args].join(' ')}\n`;
  const body = b64(stanza.body);
  for (let i = 0; i <= body.length; i += COLUMNS) text += `${body.slice(i, i + COLUMNS)}\n`;
  return text; // the loop's last line is always shorter than 64 columns (possibly empty)
}

function headerMac(fileKey: Buffer, upToDashes: Buffer): Buffer {
  return crypto.createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(upToDashes).digest();
}

function formatHeader(fileKey: Buffer, stanzas: Stanza[]): Buffer {
  const upToDashes = Buffer.from(`${VERSION_LINE}\n${stanzas.map(formatStanza).join('')}---`, 'latin1');
  return Buffer.concat([upToDashes, Buffer.from(` ${b64(headerMac(fileKey, upToDashes))}\n`, 'latin1')]);
}

function wrapX25519(fileKey: Buffer, recipient: Recipient): Stanza {
  const ephemeral = crypto.generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  let shared: Buffer;
  try {
    shared = crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key });
  } catch {
    throw new AgeError('invalid X25519 recipient (low-order point)');
  }
  if (shared.equals(ZERO_32)) throw new AgeError('invalid X25519 recipient (low-order point)');
  const wrapKey = secretKey(hkdf(shared, Buffer.concat([share, recipient.raw]), X25519_INFO));
  return { type: 'X25519', args: [b64(share)], body: seal(wrapKey, ZERO_NONCE, fileKey) };
}

interface ParsedHeader {
  stanzas: Stanza[];
  /** The header bytes up to and including `---`, which the MAC covers. */
  macInput: Buffer;
  mac: Buffer;
  /** Offset of the first payload byte. */
  end: number;
}

/** Whether `buf` cannot be the start of an age file (nor of an armored one, refused by name later). */
function foreign(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, VERSION_LINE.length));
  return !VERSION_LINE.startsWith(head) && !'-----BEGIN AGE ENCRYPTED FILE-----'.startsWith(head);
}

/**
 * Parses a header at the start of `buf`. Returns null when more bytes are needed (and `eof` is false).
 * Grammar (c2sp.org/age): v1-line 1*stanza end; arg-line = "-> " 1*VCHAR *(SP 1*VCHAR) LF;
 * full-line = 64 base64 chars LF; final-line = 0..63 base64 chars LF; end = "--- " 43 base64 chars LF.
 */
function parseHeader(buf: Buffer, eof: boolean): ParsedHeader | null {
  let pos = 0;
  const readLine = (): string | null => {
    const nl = buf.subarray(0, MAX_HEADER_SIZE).indexOf(0x0a, pos);
    if (nl < 0) {
      if (buf.length >= MAX_HEADER_SIZE) throw new AgeError(`header larger than ${MAX_HEADER_SIZE} bytes`);
      if (!eof) return null;
      if (pos === 0 && buf.length === 0) throw new AgeError('empty input: not an age file');
      throw new AgeError(pos === 0 && foreign(buf) ? 'not an age file' : 'truncated header');
    }
    const line = buf.toString('latin1', pos, nl);
    if (line.endsWith('\r') && !line.startsWith('-----BEGIN')) throw new AgeError('malformed header: CRLF line endings');
    pos = nl + 1;
    return line;
  };

  const version = readLine();
  if (version === null) {
    // Fail fast on obviously foreign input instead of buffering up to the header limit.
    if (foreign(buf)) throw new AgeError('not an age file');
    return null;
  }
  if (version !== VERSION_LINE) {
    if (version.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) throw new AgeError('ASCII-armored age files are not supported');
    if (version.startsWith('age-encryption.org/')) throw new AgeError('unsupported age format version');
    throw new AgeError('not an age file');
  }

  const stanzas: Stanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = readLine();
    if (line === null) return null;
    if (line.startsWith('-> ')) {
      const args = line.slice(3).split(' ');
      if (!args.every((a) => /^[\x21-\x7e]+$/.test(a))) throw new AgeError('malformed stanza arguments');
      const parts: Buffer[] = [];
      for (;;) {
        const bodyLine = readLine();
        if (bodyLine === null) return null;
        if (bodyLine.length > COLUMNS) throw new AgeError('malformed stanza body: line longer than 64 columns');
        const part = b64decode(bodyLine);
        if (!part) throw new AgeError('malformed stanza body: invalid or non-canonical base64');
        parts.push(part);
        if (bodyLine.length < COLUMNS) break;
      }
      stanzas.push({ type: args[0]!, args: args.slice(1), body: Buffer.concat(parts) });
    } else if (line.startsWith('---')) {
      if (stanzas.length === 0) throw new AgeError('header has no recipient stanzas');
      const mac = line.startsWith('--- ') && line.length === 4 + 43 ? b64decode(line.slice(4)) : null;
      if (!mac) throw new AgeError('malformed header MAC line');
      return { stanzas, macInput: buf.subarray(0, lineStart + 3), mac, end: pos };
    } else {
      throw new AgeError('malformed header line');
    }
  }
}

/** Finds the file key among the X25519 stanzas and verifies the header MAC with it. */
function unwrapFileKey(header: ParsedHeader, identities: Identity[]): Buffer {
  if (identities.length === 0) throw new AgeError('no identities given');
  const { stanzas } = header;
  if (stanzas.some((s) => s.type === 'scrypt')) {
    throw new AgeError(
      stanzas.length === 1
        ? 'file is passphrase-encrypted (scrypt); only X25519 identities are supported'
        : 'invalid header: an scrypt stanza must be the only stanza',
    );
  }
  const x25519 = stanzas.filter((s) => s.type === 'X25519');
  for (const s of x25519) {
    // Validate every X25519 stanza before trying any (spec: reject, don't skip, malformed ones).
    if (s.args.length !== 1 || b64decode(s.args[0]!)?.length !== 32) throw new AgeError('malformed X25519 stanza: bad ephemeral share');
    if (s.body.length !== FILE_KEY_SIZE + TAG_SIZE) throw new AgeError('malformed X25519 stanza: body is not 32 bytes');
  }
  let fileKey: Buffer | null = null;
  search: for (const s of x25519) {
    const share = b64decode(s.args[0]!)!;
    const shareKey = publicKeyObject(share);
    for (const identity of identities) {
      const secret = secrets.get(identity);
      if (!secret) throw new AgeError('not an Identity from parseIdentity/parseIdentityFile');
      let shared: Buffer;
      try {
        shared = crypto.diffieHellman({ privateKey: secret.privateKey, publicKey: shareKey });
      } catch {
        throw new AgeError('invalid X25519 stanza: low-order ephemeral share (all-zero shared secret)');
      }
      if (shared.equals(ZERO_32)) throw new AgeError('invalid X25519 stanza: low-order ephemeral share (all-zero shared secret)');
      const wrapKey = secretKey(hkdf(shared, Buffer.concat([share, secret.publicKey]), X25519_INFO));
      fileKey = open(wrapKey, ZERO_NONCE, s.body);
      if (fileKey) break search;
    }
  }
  if (!fileKey) {
    const others = stanzas.length - x25519.length;
    throw new AgeError(
      `no identity matches the file's recipients (${x25519.length} X25519 stanza(s)` +
        (others ? `, ${others} stanza(s) of unsupported types` : '') + ')',
    );
  }
  const expected = headerMac(fileKey, header.macInput);
  if (!crypto.timingSafeEqual(expected, header.mac)) throw new AgeError('header MAC mismatch: the header was modified');
  return fileKey;
}

// ───────────────────────────── Payload (STREAM) ─────────────────────────────

/** Ciphertext payload size (after the nonce) for a plaintext of n bytes. */
function sealedPayloadSize(n: number): number {
  return n === 0 ? TAG_SIZE : n + Math.ceil(n / CHUNK_SIZE) * TAG_SIZE;
}

/** Opens chunk `counter` knowing whether it must be the final one; explains failures. */
function openChunk(key: KeyObject, counter: number, sealed: Buffer, last: boolean): Buffer {
  const pt = open(key, chunkNonce(counter, last), sealed);
  if (pt) {
    if (last && pt.length === 0 && counter > 0) throw new AgeError('invalid payload: empty final chunk after a non-empty payload');
    return pt;
  }
  if (sealed.length === ENC_CHUNK_SIZE && open(key, chunkNonce(counter, !last), sealed)) {
    throw new AgeError(last ? 'truncated payload: the file ends without a final chunk' : 'invalid payload: trailing data after the final chunk');
  }
  throw new AgeError(`payload chunk ${counter} failed authentication: the file was modified or is corrupt`);
}

// ───────────────────────────── Buffer API ─────────────────────────────

/** Encrypts `plaintext` to every `age1…` recipient; the result decrypts with `age -d -i <identity file>`. */
export function encryptAge(plaintext: Buffer, recipients: string[]): Buffer {
  return encryptChunks(plaintext, recipients, null);
}

function encryptChunks(plaintext: Buffer, recipients: string[], chunks: TestChunk[] | null): Buffer {
  if (recipients.length === 0) throw new AgeError('at least one recipient is required');
  const parsed = recipients.map(parseRecipient);
  const fileKey = crypto.randomBytes(FILE_KEY_SIZE);
  const header = formatHeader(fileKey, parsed.map((r) => wrapX25519(fileKey, r)));
  const nonce = crypto.randomBytes(NONCE_SIZE);
  const key = secretKey(hkdf(fileKey, nonce, 'payload'));
  if (chunks) {
    const sealed = chunks.map((c, i) => seal(key, chunkNonce(i, c.last), c.data));
    return Buffer.concat([header, nonce, ...sealed]);
  }
  const out = Buffer.allocUnsafe(header.length + NONCE_SIZE + sealedPayloadSize(plaintext.length));
  header.copy(out, 0);
  nonce.copy(out, header.length);
  let offset = header.length + NONCE_SIZE;
  let counter = 0;
  let pos = 0;
  do {
    const end = Math.min(pos + CHUNK_SIZE, plaintext.length);
    offset += sealInto(key, chunkNonce(counter++, end === plaintext.length), plaintext.subarray(pos, end), out, offset);
    pos = end;
  } while (pos < plaintext.length);
  return out;
}

/** Decrypts a whole age file with any of `identities`; throws AgeError on any malformation or tampering. */
export function decryptAge(ciphertext: Buffer, identities: Identity[]): Buffer {
  const header = parseHeader(ciphertext, true)!;
  const fileKey = unwrapFileKey(header, identities);
  if (ciphertext.length < header.end + NONCE_SIZE) throw new AgeError('truncated payload: missing nonce');
  const key = secretKey(hkdf(fileKey, ciphertext.subarray(header.end, header.end + NONCE_SIZE), 'payload'));
  const payload = ciphertext.subarray(header.end + NONCE_SIZE);
  if (payload.length === 0) throw new AgeError('truncated payload: no chunks');
  const n = Math.ceil(payload.length / ENC_CHUNK_SIZE);
  const lastSize = payload.length - (n - 1) * ENC_CHUNK_SIZE;
  if (lastSize < TAG_SIZE) {
    // Too short to be a chunk: either bytes after a final chunk, or a chunk cut short.
    if (n > 1 && open(key, chunkNonce(n - 2, true), payload.subarray((n - 2) * ENC_CHUNK_SIZE, (n - 1) * ENC_CHUNK_SIZE))) {
      throw new AgeError('invalid payload: trailing data after the final chunk');
    }
    throw new AgeError('truncated payload: incomplete chunk');
  }
  const out = Buffer.allocUnsafe(payload.length - n * TAG_SIZE);
  for (let i = 0; i < n; i++) {
    const sealed = payload.subarray(i * ENC_CHUNK_SIZE, Math.min((i + 1) * ENC_CHUNK_SIZE, payload.length));
    openChunk(key, i, sealed, i === n - 1).copy(out, i * CHUNK_SIZE);
  }
  return out;
}

// ───────────────────────────── Streaming API ─────────────────────────────

/** A Transform that encrypts its input to `recipients` (same format as encryptAge). */
export function createEncryptStream(recipients: string[]): Transform {
  if (recipients.length === 0) throw new AgeError('at least one recipient is required');
  const parsed = recipients.map(parseRecipient);
  const fileKey = crypto.randomBytes(FILE_KEY_SIZE);
  const header = formatHeader(fileKey, parsed.map((r) => wrapX25519(fileKey, r)));
  const nonce = crypto.randomBytes(NONCE_SIZE);
  const key = secretKey(hkdf(fileKey, nonce, 'payload'));
  const pending = Buffer.allocUnsafe(CHUNK_SIZE);
  let filled = 0;
  let counter = 0;
  let started = false;
  const start = (t: Transform) => {
    if (!started) t.push(Buffer.concat([header, nonce]));
    started = true;
  };
  return new Transform({
    transform(data: Buffer, _enc, done: TransformCallback) {
      start(this);
      let pos = 0;
      while (pos < data.length) {
        // A full buffer is sealed as non-final only once more data proves it is not the last chunk.
        if (filled === CHUNK_SIZE) {
          this.push(seal(key, chunkNonce(counter++, false), pending));
          filled = 0;
        }
        const n = data.copy(pending, filled, pos, Math.min(data.length, pos + CHUNK_SIZE - filled));
        filled += n;
        pos += n;
      }
      done();
    },
    flush(done: TransformCallback) {
      start(this);
      this.push(seal(key, chunkNonce(counter++, true), pending.subarray(0, filled)));
      done();
    },
  });
}

/**
 * A Transform that decrypts an age file. Plaintext is released chunk by chunk after each chunk
 * authenticates (never before the header MAC is verified); truncation or trailing data surface as
 * an AgeError at the end, so a consumer must treat an errored stream as a failed restore.
 */
export function createDecryptStream(identities: Identity[]): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  let key: KeyObject | null = null;
  let counter = 0;
  let queue: Buffer[] = [];
  let queued = 0;
  const take = (n: number): Buffer => {
    const all = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
    queue = all.length > n ? [all.subarray(n)] : [];
    queued -= n;
    return all.subarray(0, n);
  };
  let header: ParsedHeader | null = null;
  let fileKey: Buffer | null = null;
  const begin = (eof: boolean): boolean => {
    if (key) return true;
    if (!header) {
      header = parseHeader(head!, eof);
      if (!header) return false;
      fileKey = unwrapFileKey(header, identities); // verifies the MAC before any payload byte is used
    }
    if (head!.length < header.end + NONCE_SIZE) {
      if (eof) throw new AgeError('truncated payload: missing nonce');
      return false;
    }
    key = secretKey(hkdf(fileKey!, head!.subarray(header.end, header.end + NONCE_SIZE), 'payload'));
    const rest = head!.subarray(header.end + NONCE_SIZE);
    head = null;
    if (rest.length) {
      queue.push(rest);
      queued += rest.length;
    }
    return true;
  };
  return new Transform({
    transform(data: Buffer, _enc, done: TransformCallback) {
      try {
        if (!key) {
          head = Buffer.concat([head!, data]);
          if (!begin(false)) return done();
        } else {
          queue.push(data);
          queued += data.length;
        }
        // Hold back one chunk's worth: a chunk is non-final only if more bytes follow it.
        while (queued > ENC_CHUNK_SIZE) this.push(openChunk(key!, counter++, take(ENC_CHUNK_SIZE), false));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        begin(true);
        if (queued === 0) throw new AgeError(counter === 0 ? 'truncated payload: no chunks' : 'truncated payload: the file ends without a final chunk');
        if (queued < TAG_SIZE) throw new AgeError('truncated payload: incomplete chunk');
        this.push(openChunk(key!, counter++, take(queued), true));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

// ───────────────────────────── Test hooks ─────────────────────────────

interface TestChunk {
  data: Buffer;
  last: boolean;
}

/** @internal Builders for malformed-but-authentic files, to test the decryptor (and compare with the age CLI). */
export const __testing = {
  /** A file whose payload is exactly these chunks (counter = index, flags as given). */
  encryptChunks: (recipients: string[], chunks: TestChunk[]): Buffer => encryptChunks(Buffer.alloc(0), recipients, chunks),
  /** A file with arbitrary extra stanzas (before the X25519 ones) and a correct MAC. */
  encryptWithStanzas(plaintext: Buffer, recipients: string[], extra: Stanza[], edit?: (stanzas: Stanza[]) => Stanza[]): Buffer {
    const fileKey = crypto.randomBytes(FILE_KEY_SIZE);
    let stanzas = [...extra, ...recipients.map((r) => wrapX25519(fileKey, parseRecipient(r)))];
    if (edit) stanzas = edit(stanzas);
    const header = formatHeader(fileKey, stanzas);
    const nonce = crypto.randomBytes(NONCE_SIZE);
    const key = secretKey(hkdf(fileKey, nonce, 'payload'));
    return Buffer.concat([header, nonce, seal(key, chunkNonce(0, true), plaintext)]);
  },
  /** Header text with a correct MAC for the given raw header text up to (excluding) `---`. */
  macHeaderText(fileKey: Buffer, beforeDashes: string): Buffer {
    const upTo = Buffer.from(`${beforeDashes}---`, 'latin1');
    return Buffer.concat([upTo, Buffer.from(` ${b64(headerMac(fileKey, upTo))}\n`, 'latin1')]);
  },
  wrapX25519: (fileKey: Buffer, recipient: string): Stanza => wrapX25519(fileKey, parseRecipient(recipient)),
  sealPayload(fileKey: Buffer, plaintext: Buffer): Buffer {
    const nonce = crypto.randomBytes(NONCE_SIZE);
    const key = secretKey(hkdf(fileKey, nonce, 'payload'));
    return Buffer.concat([nonce, seal(key, chunkNonce(0, true), plaintext)]);
  },
  b64,
};
