// The stored form of one chunk (design.md "Incremental backups"): zstd level 2, one frame, then age
// to the backup recipients — exactly what `age -d -i key.txt chunk | zstd -d` undoes, so a dump can be
// rebuilt from a manifest's chunk list with the standard tools (README, restore runbook).
// In-process: spawning zstd and age per 1 MiB chunk costs ≈ 30 ms a chunk (measured), about ten times
// the work itself. zstd is libzstd compiled to WebAssembly (@foxglove/wasm-zstd: no native build step);
// age is lib/crypto/age.ts (X25519 recipients, interoperable with the age CLI).
import zstd from '@foxglove/wasm-zstd';
import { AgeError, decryptAge, encryptAge, type Identity } from '../crypto/age.ts';

/** zstd level of every chunk: level 2 compressed pg_dump chunks best per CPU second (level 3 is slower and no smaller). */
export const CHUNK_ZSTD_LEVEL = 2;

let loaded: Promise<boolean> | undefined;

/** Resolves once the zstd WebAssembly module is instantiated; call before encode/decode. */
export function codecReady(): Promise<boolean> {
  loaded ??= zstd.isLoaded;
  return loaded;
}

/** Compresses and encrypts one chunk's plaintext. */
export function encodeChunk(plain: Buffer, recipients: string[]): Buffer {
  return encryptAge(zstd.compress(plain, CHUNK_ZSTD_LEVEL), recipients);
}

export class ChunkDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChunkDecodeError';
  }
}

/**
 * Decrypts and decompresses one stored chunk, which must give exactly `plainBytes` bytes. Throws
 * ChunkDecodeError (an AgeError cause when no identity fits or the ciphertext was altered).
 */
export function decodeChunk(stored: Buffer, identities: Identity[], plainBytes: number): Buffer {
  let compressed: Buffer;
  try {
    compressed = decryptAge(stored, identities);
  } catch (err) {
    throw new ChunkDecodeError(err instanceof AgeError ? err.message : String(err), { cause: err });
  }
  let plain: Buffer;
  try {
    plain = zstd.decompress(compressed, plainBytes);
  } catch (err) {
    throw new ChunkDecodeError(`zstd cannot decompress it: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (plain.length !== plainBytes) throw new ChunkDecodeError(`it holds ${plain.length} bytes, the manifest says ${plainBytes}`);
  return plain;
}
