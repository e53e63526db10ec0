// The system programs Strata spawns. Missing ones are installed with apt when we are root,
// otherwise named exactly in one error.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { processEnv, searchPath } from '../env.ts';

export interface SystemTool {
  command: string;
  aptPackage: string;
  /** Also look here (PostgreSQL keeps its server binaries out of PATH). */
  extraDirs?: () => string[];
  /** A PostgreSQL client program: the only kind that is given a database connection (lib/process/child-env.ts). */
  connects?: boolean;
}

const pgDirs = () => {
  const root = '/usr/lib/postgresql';
  return fs.existsSync(root) ? fs.readdirSync(root).map((v) => path.join(root, v, 'bin')) : [];
};

export const TOOLS = {
  zstd: { command: 'zstd', aptPackage: 'zstd' },
  age: { command: 'age', aptPackage: 'age' },
  ageKeygen: { command: 'age-keygen', aptPackage: 'age' },
  pgDump: { command: 'pg_dump', aptPackage: 'postgresql-client', connects: true },
  pgRestore: { command: 'pg_restore', aptPackage: 'postgresql-client', connects: true },
  psql: { command: 'psql', aptPackage: 'postgresql-client', connects: true },
  postgres: { command: 'initdb', aptPackage: 'postgresql', extraDirs: pgDirs },
  chromium: { command: 'chromium', aptPackage: 'chromium' },
} satisfies Record<string, SystemTool>;

export function findTool(tool: SystemTool): string | null {
  const dirs = [...(tool.extraDirs?.() ?? []), ...searchPath()];
  for (const dir of dirs) {
    const p = path.join(dir, tool.command);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

export class MissingToolsError extends Error {
  constructor(readonly packages: string[]) {
    super(`Missing system packages. Install them with: apt-get install -y ${packages.join(' ')}`);
  }
}

/** Ensures every tool exists; as root with apt-get available, installs what is missing. */
export function ensureTools(tools: SystemTool[], log: (msg: string) => void = console.error): void {
  const missing = () => [...new Set(tools.filter((t) => !findTool(t)).map((t) => t.aptPackage))];
  let packages = missing();
  if (packages.length === 0) return;
  const canApt = process.getuid?.() === 0 && findTool({ command: 'apt-get', aptPackage: 'apt' });
  if (canApt) {
    log(`Installing missing system packages: ${packages.join(' ')} (apt-get)`);
    const env = { ...processEnv(), DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
    packages = missing();
  }
  if (packages.length > 0) throw new MissingToolsError(packages);
}
