// An age X25519 key pair for the demo and tests (production keys are the operator's).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface AgeKeyPair {
  recipient: string;
  identityFile: string;
}

/** Creates `<dir>/<name>.txt` with age-keygen unless it exists; returns its public key too. */
export function ensureAgeKeyPair(dir: string, name = 'identity'): AgeKeyPair {
  fs.mkdirSync(dir, { recursive: true });
  const identityFile = path.join(dir, `${name}.txt`);
  if (!fs.existsSync(identityFile)) {
    const res = spawnSync('age-keygen', ['-o', identityFile], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`age-keygen failed: ${res.stderr}`);
  }
  const pub = spawnSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' });
  if (pub.status !== 0) throw new Error(`age-keygen -y failed: ${pub.stderr}`);
  return { recipient: pub.stdout.trim(), identityFile };
}
