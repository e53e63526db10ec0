import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import {
  AgeError,
  __testing as T,
  bech32Decode,
  bech32Encode,
  createDecryptStream,
  createEncryptStream,
  decryptAge,
  encryptAge,
  generateIdentity,
  parseIdentity,
  parseIdentityFile,
  parseRecipient,
  recipientOf,
  type Identity,
} from './age.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
const SIZES = [0, 1, 65535, 65536, 65537, 131072, 3 * 1024 * KiB + 7];
const MAX = 64 * 1024 * KiB;

let dir: string;
const keyFile: string[] = [];
const ids: Identity[] = [];
const recips: string[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-age-'));
  for (const name of ['one', 'two']) {
    const file = path.join(dir, `${name}.txt`);
    execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
    keyFile.push(file);
    const [identity] = parseIdentityFile(fs.readFileSync(file, 'utf8'));
    ids.push(identity!);
    recips.push(recipientOf(identity!));
  }
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const cliEncrypt = (plaintext: Buffer, recipients: string[]) =>
  execFileSync('age', recipients.flatMap((r) => ['-r', r]), { input: plaintext, maxBuffer: MAX });
const cliDecrypt = (ciphertext: Buffer, identityFile: string) =>
  execFileSync('age', ['-d', '-i', identityFile], { input: ciphertext, maxBuffer: MAX, stdio: ['pipe', 'pipe', 'ignore'] });
/** Whether the age CLI accepts the file (and yields `expected` if given). */
function cliAccepts(ciphertext: Buffer, identityFile: string): boolean {
  const res = spawnSync('age', ['-d', '-i', identityFile], { input: ciphertext, maxBuffer: MAX });
  return res.status === 0;
}
function oursAccepts(ciphertext: Buffer, identities: Identity[]): boolean {
  try {
    decryptAge(ciphertext, identities);
    return true;
  } catch (err) {
    assert.ok(err instanceof AgeError, `expected AgeError, got ${String(err)}`);
    return false;
  }
}
const rejects = (ciphertext: Buffer, identities: Identity[], message?: RegExp) =>
  assert.throws(() => decryptAge(ciphertext, identities), (err: unknown) => {
    assert.ok(err instanceof AgeError, `expected AgeError, got ${String(err)}`);
    if (message) assert.match(err.message, message);
    return true;
  });

/** Where the payload (nonce) starts: just after the MAC line. */
function headerEnd(ciphertext: Buffer): number {
  const mac = ciphertext.indexOf('\n--- ');
  return ciphertext.indexOf(0x0a, mac + 1) + 1;
}

async function runStream(transform: Transform, input: Buffer, piece: (i: number) => number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let pos = 0, i = 0; pos < input.length; i++) {
    const n = Math.max(1, piece(i));
    pieces.push(input.subarray(pos, pos + n));
    pos += n;
  }
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), transform, new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk);
      done();
    },
  }));
  return Buffer.concat(out);
}

describe('age keys', () => {
  it('derives the same recipient as age-keygen -y, and reads the spec test vector', () => {
    for (let i = 0; i < keyFile.length; i++) {
      assert.equal(recipientOf(ids[i]!), execFileSync('age-keygen', ['-y', keyFile[i]!], { encoding: 'utf8' }).trim());
    }
    const specIdentity = parseIdentity('AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX');
    assert.equal(recipientOf(specIdentity), 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj');
  });

  it('parses identity files with comments, blank lines, indentation and CRLF', () => {
    const a = fs.readFileSync(keyFile[0]!, 'utf8');
    const b = fs.readFileSync(keyFile[1]!, 'utf8');
    const text = `# backup keys\n\n${a.replace(/\n/g, '\r\n')}\n   \n# second\n  ${b.trim()}  \n\n`;
    assert.deepEqual(parseIdentityFile(text).map(recipientOf), recips);
    assert.equal(cliDecrypt(encryptAge(Buffer.from('x'), [recips[1]!]), keyFile[1]!).toString(), 'x');
  });

  it('rejects identity files without keys or with foreign lines, naming only the line number', () => {
    assert.throws(() => parseIdentityFile('# only a comment\n\n'), (e) => e instanceof AgeError && /no identities/.test(e.message));
    const secret = fs.readFileSync(keyFile[0]!, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
    const typo = secret.slice(0, 30) + (secret[30] === 'Q' ? 'P' : 'Q') + secret.slice(31);
    for (const [text, line] of [[`# c\n${typo}\n`, 2], [`${secret}\nage1 not a key\n`, 2], [`\n\n${recips[0]}\n`, 3]] as const) {
      assert.throws(() => parseIdentityFile(text), (e: unknown) => {
        assert.ok(e instanceof AgeError);
        assert.match(e.message, new RegExp(`line ${line}\\b`));
        assert.ok(!e.message.includes(secret.slice(16, 40)) && !e.message.includes(typo.slice(16, 40)), 'no key material in the message');
        return true;
      });
    }
  });

  it('validates bech32 checksums, case and HRPs', () => {
    // BIP-173 valid vectors, and a round trip.
    for (const s of ['A12UEL5L', 'a12uel5l', '?1ezyfcl', 'abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w']) {
      assert.doesNotThrow(() => bech32Decode(s), s);
    }
    const data = crypto.randomBytes(32);
    assert.deepEqual(bech32Decode(bech32Encode('age', data)), { hrp: 'age', data });
    // BIP-173 invalid vectors: no separator, empty HRP, bad data char, short checksum, uppercase-HRP checksum, mixed case.
    for (const s of ['pzry9x0s0muk', '1pzry9x0s0muk', 'x1b4n0q5v', 'li1dgmt3', 'A1G7SGD8', '10a06t8', 'A12uEL5L']) {
      assert.throws(() => bech32Decode(s), AgeError, s);
    }
    // One changed character in a real recipient / identity breaks the checksum.
    const r = recips[0]!;
    const badR = r.slice(0, 20) + (r[20] === 'q' ? 'p' : 'q') + r.slice(21);
    assert.throws(() => parseRecipient(badR), /checksum/);
    assert.throws(() => encryptAge(Buffer.from('x'), [badR]), AgeError);
    const { secretKey } = generateIdentity();
    const badI = secretKey.slice(0, -1) + (secretKey.endsWith('Q') ? 'P' : 'Q');
    assert.throws(() => parseIdentity(badI), /checksum/);
    assert.throws(() => parseIdentity(secretKey.toLowerCase().replace('age-secret', 'AGE-SECRET')), /mixed case/);
    // Right checksum, wrong kind of key.
    assert.throws(() => parseIdentity(r), /not an age X25519 secret key/);
    assert.throws(() => parseRecipient(secretKey), /not an age X25519 recipient/);
    assert.throws(() => parseRecipient(bech32Encode('age', Buffer.alloc(31))), /wrong length/);
  });

  it('keeps key material off Identity objects', () => {
    const { identity, secretKey } = generateIdentity();
    assert.equal(recipientOf(parseIdentity(secretKey)), identity.recipient);
    const shown = `${JSON.stringify(identity)} ${String(identity)} ${Object.values(identity).join(' ')}`;
    assert.ok(!shown.includes(secretKey) && !shown.includes(secretKey.slice(16, 40)));
  });
});

describe('age interop with the age CLI', () => {
  for (const size of SIZES) {
    it(`age CLI ⇄ in-process, ${size} bytes`, () => {
      const plaintext = crypto.randomBytes(size);
      const ours = encryptAge(plaintext, [recips[0]!]);
      assert.deepEqual(cliDecrypt(ours, keyFile[0]!), plaintext);
      const theirs = cliEncrypt(plaintext, [recips[0]!]);
      assert.deepEqual(decryptAge(theirs, [ids[0]!]), plaintext);
      // Same chunking as the reference: a full final chunk, no extra empty chunk.
      assert.equal(ours.length, theirs.length);
    });
  }

  it('encrypts to several recipients, decryptable with each identity (both directions)', () => {
    const plaintext = crypto.randomBytes(200 * KiB + 3);
    const ours = encryptAge(plaintext, recips);
    const theirs = cliEncrypt(plaintext, recips);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(cliDecrypt(ours, keyFile[i]!), plaintext);
      assert.deepEqual(decryptAge(theirs, [ids[i]!]), plaintext);
    }
    const both = parseIdentityFile(keyFile.map((f) => fs.readFileSync(f, 'utf8')).join('\n'));
    assert.deepEqual(decryptAge(theirs, both), plaintext);
    const stranger = generateIdentity().identity;
    assert.deepEqual(decryptAge(theirs, [stranger, ids[1]!]), plaintext);
    rejects(theirs, [stranger], /no identity matches/);
  });

  it('streams: encrypt stream → age CLI, age CLI → decrypt stream, in irregular pieces', async () => {
    for (const size of [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK, 1024 * KiB + 11]) {
      const plaintext = crypto.randomBytes(size);
      const ours = await runStream(createEncryptStream(recips), plaintext, (i) => (i * 7919) % (CHUNK + 13));
      assert.deepEqual(cliDecrypt(ours, keyFile[1]!), plaintext, `stream → CLI, ${size}`);
      assert.deepEqual(decryptAge(ours, [ids[0]!]), plaintext);
      const theirs = cliEncrypt(plaintext, [recips[0]!]);
      for (const piece of [() => 1 + size, (i: number) => 1 + ((i * 104729) % 3000), () => CHUNK + 16]) {
        assert.deepEqual(await runStream(createDecryptStream([ids[0]!]), theirs, piece), plaintext, `CLI → stream, ${size}`);
      }
    }
  });

  it('accepts and rejects the same edge-case files as the age CLI', () => {
    const full = crypto.randomBytes(CHUNK);
    const cases: Array<[string, Buffer, boolean]> = [
      ['full final chunk', T.encryptChunks([recips[0]!], [{ data: full, last: true }]), true],
      ['only an empty final chunk', T.encryptChunks([recips[0]!], [{ data: Buffer.alloc(0), last: true }]), true],
      ['full chunk, then empty final chunk', T.encryptChunks([recips[0]!], [{ data: full, last: false }, { data: Buffer.alloc(0), last: true }]), false],
      ['no final chunk (truncated)', T.encryptChunks([recips[0]!], [{ data: full, last: false }]), false],
      ['data after the final chunk', T.encryptChunks([recips[0]!], [{ data: full, last: true }, { data: Buffer.from('x'), last: true }]), false],
      ['short non-final chunk', T.encryptChunks([recips[0]!], [{ data: Buffer.alloc(100), last: false }, { data: Buffer.from('x'), last: true }]), false],
      ['empty non-final chunk', T.encryptChunks([recips[0]!], [{ data: Buffer.alloc(0), last: false }, { data: Buffer.from('x'), last: true }]), false],
      ['unknown stanza before ours', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [{ type: 'example.com/enigma', args: ['a', 'b'], body: crypto.randomBytes(48) }]), true],
      ['unknown stanza with empty body', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [{ type: 'grease', args: [], body: Buffer.alloc(0) }]), true],
      ['X25519 stanza for someone else first', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [T.wrapX25519(crypto.randomBytes(16), recips[1]!)]), true],
      ['X25519 stanza with 2 arguments', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [], (s) => s.map((x) => ({ ...x, args: [...x.args, 'extra'] }))), false],
      ['X25519 stanza with a 33-byte body', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [{ type: 'X25519', args: [T.b64(crypto.randomBytes(32))], body: Buffer.alloc(33) }]), false],
      ['low-order (zero) ephemeral share', T.encryptWithStanzas(Buffer.from('x'), [recips[0]!], [{ type: 'X25519', args: [T.b64(Buffer.alloc(32))], body: Buffer.alloc(32) }]), false],
    ];
    for (const [name, file, accepted] of cases) {
      assert.equal(oursAccepts(file, [ids[0]!]), accepted, `in-process: ${name}`);
      assert.equal(cliAccepts(file, keyFile[0]!), accepted, `age CLI: ${name}`);
    }
  });
});

describe('decryptAge', () => {
  it('round-trips in process for 1 and 3 recipients', () => {
    const extra = [generateIdentity(), generateIdentity()];
    for (const size of SIZES) {
      const plaintext = crypto.randomBytes(size);
      assert.deepEqual(decryptAge(encryptAge(plaintext, [recips[0]!]), [ids[0]!]), plaintext);
      const three = encryptAge(plaintext, [recips[1]!, ...extra.map((e) => e.identity.recipient)]);
      assert.deepEqual(decryptAge(three, [extra[1]!.identity]), plaintext);
      assert.deepEqual(decryptAge(three, [ids[1]!]), plaintext);
    }
  });

  it('rejects the wrong identity, without leaking key material in the message', () => {
    const file = encryptAge(Buffer.from('secret'), [recips[0]!]);
    const { identity, secretKey } = generateIdentity();
    assert.throws(() => decryptAge(file, [identity]), (e: unknown) => {
      assert.ok(e instanceof AgeError);
      assert.match(e.message, /no identity matches/);
      assert.ok(!e.message.includes(secretKey.slice(16)) && !e.message.includes(identity.recipient));
      return true;
    });
    assert.throws(() => decryptAge(file, []), AgeError);
  });

  it('rejects every single-bit flip in the header', () => {
    const file = encryptAge(crypto.randomBytes(CHUNK + 100), [recips[0]!, recips[1]!]);
    const end = headerEnd(file);
    for (let i = 0; i < end; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(file);
        bad[i]! ^= 1 << bit;
        assert.equal(oursAccepts(bad, [ids[1]!]), false, `header byte ${i} bit ${bit}`);
      }
    }
  });

  it('rejects single-bit flips across the payload (nonce, chunk bodies, tags, final chunk)', () => {
    const file = encryptAge(crypto.randomBytes(2 * CHUNK + 1000), [recips[0]!]);
    const start = headerEnd(file);
    const positions = new Set<number>();
    for (let i = 0; i < 16; i++) positions.add(start + i); // nonce
    for (const edge of [16, 16 + CHUNK - 1, 16 + CHUNK, 16 + CHUNK + 15, 16 + CHUNK + 16, 16 + 2 * (CHUNK + 16)]) positions.add(start + edge);
    for (let p = start; p < file.length; p += 997) positions.add(p);
    positions.add(file.length - 1);
    for (const p of positions) {
      const bad = Buffer.from(file);
      bad[p]! ^= 1 << (p % 8);
      assert.equal(oursAccepts(bad, [ids[0]!]), false, `payload byte ${p - start}`);
    }
  });

  it('rejects truncation at and between chunk boundaries, and trailing data', () => {
    const plaintext = crypto.randomBytes(3 * CHUNK);
    const file = encryptAge(plaintext, [recips[0]!]);
    const start = headerEnd(file);
    assert.equal(file.length, start + 16 + 3 * (CHUNK + 16));
    rejects(file.subarray(0, start), [ids[0]!], /missing nonce/);
    rejects(file.subarray(0, start + 16), [ids[0]!], /truncated/);
    for (const chunks of [1, 2]) rejects(file.subarray(0, start + 16 + chunks * (CHUNK + 16)), [ids[0]!], /without a final chunk/);
    rejects(file.subarray(0, file.length - 1), [ids[0]!], /failed authentication/);
    rejects(file.subarray(0, file.length - 20), [ids[0]!], /failed authentication/);
    rejects(file.subarray(0, start + 16 + 2 * (CHUNK + 16) + 5), [ids[0]!], /incomplete chunk/);
    rejects(file.subarray(0, start - 2), [ids[0]!], /truncated header/);
    for (const tail of [Buffer.from([0]), Buffer.alloc(16), crypto.randomBytes(CHUNK + 16), file.subarray(start + 16)]) {
      rejects(Buffer.concat([file, tail]), [ids[0]!], /trailing data/);
    }
    const empty = encryptAge(Buffer.alloc(0), [recips[0]!]);
    rejects(Buffer.concat([empty, Buffer.from('x')]), [ids[0]!], /failed authentication/);
    assert.deepEqual(decryptAge(file, [ids[0]!]), plaintext);
  });

  it('parses headers strictly (each case has a valid MAC, so only the grammar rejects it)', () => {
    const fileKey = crypto.randomBytes(16);
    const stanza = T.wrapX25519(fileKey, recips[0]!);
    const share = stanza.args[0]!;
    const body = T.b64(stanza.body);
    const payload = T.sealPayload(fileKey, Buffer.from('payload'));
    const build = (text: string) => Buffer.concat([T.macHeaderText(fileKey, text), payload]);
    const flipUnusedBit = (s: string) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      return s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1)!) ^ 1];
    };
    const good = `age-encryption.org/v1\n-> X25519 ${share}\n${body}\n`;
    const big = (n: number) => `-> big\n${T.b64(crypto.randomBytes(n)).replace(/.{64}/g, '$&\n')}\n`;
    assert.deepEqual(decryptAge(build(good), [ids[0]!]).toString(), 'payload'); // positive control
    assert.deepEqual(decryptAge(build(`${good}${big(48)}${big(40 * KiB)}`), [ids[0]!]).toString(), 'payload');
    const cases: Array<[string, Buffer, RegExp]> = [
      ['non-canonical share', build(`age-encryption.org/v1\n-> X25519 ${flipUnusedBit(share)}\n${body}\n`), /bad ephemeral share/],
      ['padded share', build(`age-encryption.org/v1\n-> X25519 ${share}=\n${body}\n`), /bad ephemeral share/],
      ['non-canonical body', build(`age-encryption.org/v1\n-> X25519 ${share}\n${flipUnusedBit(body)}\n`), /non-canonical/],
      ['padded body', build(`age-encryption.org/v1\n-> X25519 ${share}\n${body}=\n`), /base64/],
      ['CRLF line endings', build(good.replace(/\n/g, '\r\n')), /CRLF/],
      ['CRLF after the body', build(good.replace(/\n$/, '\r\n')), /CRLF/],
      ['double space in arguments', build(`age-encryption.org/v1\n-> X25519  ${share}\n${body}\n`), /malformed stanza arguments/],
      ['no arguments', build(`${good}-> \n\n`), /malformed stanza arguments/],
      ['body line over 64 columns', build(`${good}-> big\n${'A'.repeat(68)}\n`), /longer than 64/],
      ['64-column body without a final short line', Buffer.concat([T.macHeaderText(fileKey, `${good}-> big\n${'A'.repeat(64)}\n`), payload]), /base64/],
      ['header over 64 KiB', build(`${good}${big(50 * KiB)}`), /header larger than/],
      ['unknown version', build(good.replace('/v1', '/v2')), /unsupported age format version/],
      ['no stanzas', build('age-encryption.org/v1\n'), /no recipient stanzas/],
      ['junk line', build(`${good}hello\n`), /malformed header line/],
      ['only unknown stanzas', build(`age-encryption.org/v1\n-> example.com/x\nAAAA\n`), /no identity matches/],
      ['scrypt stanza alongside X25519', build(`age-encryption.org/v1\n-> scrypt ${T.b64(crypto.randomBytes(16))} 10\n${body}\n-> X25519 ${share}\n${body}\n`), /scrypt stanza must be the only/],
    ];
    for (const [name, file, message] of cases) {
      assert.throws(() => decryptAge(file, [ids[0]!]), (e: unknown) => e instanceof AgeError && message.test(e.message), name);
    }
    const mac = T.macHeaderText(fileKey, good).toString('latin1');
    rejects(Buffer.concat([Buffer.from(mac.replace('--- ', '---  ')), payload]), [ids[0]!], /MAC line/);
    rejects(Buffer.from(''), [ids[0]!], /empty input/);
    rejects(Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n'), [ids[0]!], /armored/);
    rejects(crypto.randomBytes(1000), [ids[0]!], /not an age file/);
    // Foreign bytes with no line end at all (1000 random bytes hold no LF one time in 50): not a truncated header.
    rejects(Buffer.alloc(1000, 0xff), [ids[0]!], /not an age file/);
    rejects(Buffer.from('age-encryption.org/v1'), [ids[0]!], /truncated header/);
  });

  it('refuses low-order recipients when encrypting', () => {
    assert.throws(() => encryptAge(Buffer.from('x'), [bech32Encode('age', Buffer.alloc(32))]), /low-order/);
    assert.throws(() => encryptAge(Buffer.from('x'), []), /at least one recipient/);
  });

  it('makes the decrypt stream fail on truncation, trailing data and tampering', async () => {
    const plaintext = crypto.randomBytes(2 * CHUNK + 5);
    const file = encryptAge(plaintext, [recips[0]!]);
    const start = headerEnd(file);
    const piece = (i: number) => 1000 + ((i * 7919) % 50000);
    const flipped = Buffer.from(file);
    flipped[start + 16 + CHUNK + 100]! ^= 4;
    const cases: Array<[Buffer, RegExp]> = [
      [file.subarray(0, start + 16 + CHUNK + 16), /without a final chunk/],
      [file.subarray(0, start + 10), /missing nonce/],
      // A short final chunk with a byte appended is just a chunk that fails to authenticate (as with the CLI).
      [Buffer.concat([file, Buffer.from('x')]), /failed authentication/],
      [Buffer.concat([file, file.subarray(start + 16)]), /failed authentication/],
      [Buffer.concat([encryptAge(crypto.randomBytes(CHUNK), [recips[0]!]), Buffer.from('x')]), /trailing data/],
      [flipped, /failed authentication/],
      [file.subarray(0, 30), /truncated header/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(runStream(createDecryptStream([ids[0]!]), input, piece), (e: unknown) => e instanceof AgeError && message.test(e.message));
    }
    assert.deepEqual(await runStream(createDecryptStream([ids[0]!]), file, piece), plaintext);
  });
});
