// What every bench item shares: the running stack, timed and sampled child processes, and the
// figures collected for results.json / results.md.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../lib/db/client.ts';
import type { Config } from '../lib/env.ts';
import { round, sampleRun, type RunProfile, type ServerGroup } from './proc.ts';
import { workerNodeArgs } from '../worker/launch.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'bench', 'child.ts');
export const MB = 1024 * 1024;

export interface Figure {
  item: number;
  label: string;
  value: number | null;
  unit: string;
  /** Human-readable target, e.g. "≤ 1.5× floor". */
  target?: string;
  met?: boolean;
  note?: string;
}

export interface Sizes {
  /** Patients of the big tenant (~500 bytes of raw dump each). */
  bigPatients: number;
  /** The smaller tenant of the memory comparison. */
  smallPatients: number;
  /** Patients of the tenant pgbench works on. */
  oltpPatients: number;
  fleetTenants: number;
  fleetPatients: number;
  catalogRows: number;
  /** Repetitions of the floor and of Strata's backup (interleaved). */
  reps: number;
  pgbenchSeconds: number;
}

export interface Bench {
  quick: boolean;
  sizes: Sizes;
  dir: string;
  env: Record<string, string>;
  config: Config;
  db: Db;
  /** PostgreSQL tree, s3rver, this process. */
  servers: ServerGroup[];
  figures: Figure[];
  profiles: Record<string, RunProfile>;
  details: Record<string, unknown>;
  log: (msg: string) => void;
  /** `--cpu-prof <dir>`: V8 CPU profiles of the measured node children. */
  cpuProfDir?: string;
}

export function figure(bench: Bench, f: Figure): void {
  bench.figures.push(f);
  const verdict = f.met === undefined ? '' : f.met ? '  ✔ met' : '  ✘ MISSED';
  bench.log(`  [${f.item}] ${f.label}: ${f.value ?? '—'} ${f.unit}${f.target ? `  (target ${f.target})` : ''}${verdict}${f.note ? `  — ${f.note}` : ''}`);
}

export interface ChildRun {
  code: number | null;
  seconds: number;
  /** The last JSON line the child printed (bench/child.ts). */
  out: Record<string, unknown>;
  profile: RunProfile;
}

function closed(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

/** bench/child.ts in its own node process, sampled. */
export async function runNodeChild(bench: Bench, args: string[], extraEnv: Record<string, string> = {}): Promise<ChildRun> {
  const t = performance.now();
  // `--cpu-prof <dir>`: each measured child writes a V8 CPU profile there (chrome://inspect, speedscope).
  const nodeArgs = workerNodeArgs(CHILD);
  const script = nodeArgs.pop()!;
  const prof = bench.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${bench.cpuProfDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...prof, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...bench.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = sampleRun(child.pid!, 'node (strata)', bench.servers);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const code = await closed(child);
  const profile = sampler.stop();
  if (code !== 0) throw new Error(`bench child ${args.join(' ')} exited with ${code}:\n${err}`);
  const last = out.trim().split('\n').pop() ?? '{}';
  return { code, seconds: round((performance.now() - t) / 1000), out: JSON.parse(last) as Record<string, unknown>, profile };
}

export interface CommandRun {
  seconds: number;
  /** Bytes written to stdout (when counted). */
  bytes: number;
  profile: RunProfile;
}

/** A program with stdout to /dev/null, counted, or a file; sampled like the node children. */
export async function runCommand(
  bench: Bench,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdout?: 'null' | 'count' | 'inherit'; name?: string; sample?: boolean } = {},
): Promise<CommandRun> {
  const devNull = opts.stdout === 'null' || opts.stdout === undefined ? fs.openSync('/dev/null', 'w') : undefined;
  const stdio: StdioOptions = ['ignore', devNull ?? (opts.stdout === 'inherit' ? 'inherit' : 'pipe'), 'pipe'];
  const t = performance.now();
  const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio });
  // Sampling costs the bench some CPU: many tiny runs side by side (the fleet's floor) go without.
  const sampler = opts.sample === false ? null : sampleRun(child.pid!, opts.name ?? path.basename(cmd), bench.servers);
  let bytes = 0;
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (bytes += b.length));
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
  const code = await closed(child);
  const seconds = round((performance.now() - t) / 1000);
  const profile = sampler?.stop() ?? { wallSeconds: seconds, processes: {}, servers: {} };
  if (devNull !== undefined) fs.closeSync(devNull);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${err}`);
  return { seconds, bytes, profile };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** The process that used the most CPU in a run, and how busy both cores were. */
export function bottleneck(profile: RunProfile): string {
  const all: [string, number][] = [...Object.entries(profile.processes).map(([k, v]) => [k, v.cpuSeconds] as [string, number]), ...Object.entries(profile.servers)];
  all.sort((a, b) => b[1] - a[1]);
  const total = all.reduce((s, [, c]) => s + c, 0);
  const parts = all.filter(([, c]) => c >= 0.05).map(([k, c]) => `${k} ${c.toFixed(1)} s (${Math.round((100 * c) / profile.wallSeconds)}% of a core)`);
  return `${profile.wallSeconds.toFixed(1)} s wall, ${total.toFixed(1)} CPU-s (${Math.round((100 * total) / (2 * profile.wallSeconds))}% of 2 cores): ${parts.join(', ')}`;
}
