// A private PostgreSQL cluster on a free loopback port, from the machine's PostgreSQL binaries.
// As root the server runs as the `postgres` OS user, in a directory that user can reach.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { searchPath } from '../env.ts';

export class MissingPostgresError extends Error {
  constructor() {
    super(
      'PostgreSQL server binaries (initdb, postgres) were not found in PATH or /usr/lib/postgresql/*/bin. ' +
        'Install them with: apt-get install -y postgresql',
    );
  }
}

/** Directory holding initdb/postgres/pg_dump/pg_restore/psql, newest major version first. */
export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  for (const dir of searchPath()) {
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new MissingPostgresError();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const isRoot = () => process.getuid?.() === 0;

/** Spawn options that run a binary as the `postgres` OS user when we are root (no runuser wrapper, so
 * signals reach the server itself and stopping it never orphans a postmaster). */
function postgresUser(): { uid?: number; gid?: number } {
  if (!isRoot()) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error('Running as root needs the `postgres` OS user (created by: apt-get install -y postgresql)');
  }
  return { uid, gid };
}

function chownToPostgres(p: string): void {
  if (!isRoot()) return;
  const res = spawnSync('chown', ['-R', 'postgres:postgres', p]);
  if (res.status !== 0) throw new Error(`chown postgres ${p} failed: ${res.stderr}`);
}

/** Whether the `postgres` OS user may enter every directory from / down to `dir` (mode bits; ACLs ignored). */
export function postgresCanReach(dir: string, user: { uid?: number; gid?: number } = postgresUser()): boolean {
  if (user.uid === undefined) return true; // not root: the server runs as us
  let cur = path.resolve(dir);
  for (;;) {
    // A directory not created yet gets 0755 from mkdir.
    const st = fs.statSync(cur, { throwIfNoEntry: false });
    if (st) {
      const mask = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
      if ((st.mode & mask) === 0) return false;
    }
    const parent = path.dirname(cur);
    if (parent === cur) return true;
    cur = parent;
  }
}

const OWNER_FILE = 'strata-state-token';

/**
 * The demo's persistent cluster directory for the state directory `stateDir` (`.strata/`), so that
 * deleting `.strata/` really starts over (issue 12):
 * - `stateDir/postgres` whenever the `postgres` OS user can reach it (always when not root);
 * - otherwise (root, a checkout under a mode-700 /root) `<tmp>/strata-pg-<hash>`, bound to
 *   `stateDir` by a random token kept in both places: when `stateDir` lost its token (deleted),
 *   the old cluster is removed and a new one initialised, so no catalog outlives its storage.
 */
export function persistentClusterDir(stateDir: string, user: { uid?: number; gid?: number } = postgresUser()): string {
  const state = path.resolve(stateDir);
  fs.mkdirSync(state, { recursive: true });
  const inside = path.join(state, 'postgres');
  if (postgresCanReach(inside, user)) return inside;
  const key = crypto.createHash('sha256').update(state).digest('hex').slice(0, 12);
  const outside = path.join(os.tmpdir(), `strata-pg-${key}`);
  const stateToken = path.join(state, 'postgres-cluster-token');
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const token = read(stateToken);
  if (token === null || read(path.join(outside, OWNER_FILE)) !== token) {
    // A cluster without its state directory's token belongs to a deleted `.strata/`: start over.
    fs.rmSync(outside, { recursive: true, force: true });
    const fresh = crypto.randomBytes(12).toString('hex');
    fs.mkdirSync(outside, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(outside, OWNER_FILE), fresh);
    fs.writeFileSync(stateToken, `${fresh}\n`, { mode: 0o600 });
  }
  return outside;
}

export interface PostgresServer {
  /** Superuser URL of the `strata` database (password included; never log it). */
  url: string;
  adminUrl: (database: string) => string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Cluster directory (its parents must be reachable by the postgres OS user); reused when it already
   * holds a cluster. Default: a fresh temp dir, removed on stop(). */
  dir?: string;
  port?: number;
  database?: string;
  log?: (line: string) => void;
  /** Server settings passed as `-c name=value` after the defaults (which they override), e.g. a
   * stock `max_connections` for tests that need a default-configured lock table. */
  settings?: Record<string, string>;
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const ephemeral = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'strata-pg-'));
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  const pwFile = path.join(dir, 'superuser.pw');
  fs.mkdirSync(socketDir, { recursive: true });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.writeFileSync(pwFile, crypto.randomBytes(18).toString('base64url'), { mode: 0o600 });
    chownToPostgres(dir);
    const res = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C.UTF-8'],
      { encoding: 'utf8', cwd: dir, ...postgresUser() },
    );
    if (res.status !== 0) throw new Error(`initdb failed: ${res.stderr || res.stdout}`);
  }
  chownToPostgres(dir);
  const password = fs.readFileSync(pwFile, 'utf8').trim();
  const port = opts.port ?? (await freePort());
  const args = [
    '-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const child: ChildProcess = spawn(path.join(bin, 'postgres'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
    ...postgresUser(),
  });
  // If this process exits without stop() (a crash), take the server down with it.
  const killOnExit = () => child.kill('SIGQUIT');
  process.once('exit', killOnExit);
  let output = '';
  const onData = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
    opts.log?.(b.toString());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const database = opts.database ?? 'strata';
  const adminUrl = (db: string) =>
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`PostgreSQL exited during start-up:\n${output}`);
    try {
      const client = new pg.Client({ connectionString: adminUrl('postgres') });
      await client.connect();
      const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (exists.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
      await client.end();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`PostgreSQL did not accept connections within 30 s: ${(err as Error).message}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  const stop = async () => {
    if (exited) return;
    process.off('exit', killOnExit);
    // SIGINT = fast shutdown: disconnects clients, shuts down cleanly.
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exitedPromise;
    clearTimeout(timer);
    if (ephemeral) fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url: adminUrl(database), adminUrl, port, dataDir, stop };
}
