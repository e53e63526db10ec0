// Peak memory of a real backup, measured by hand (not a test):
//   node --import tsx lib/backup/measure-rss.ts [patients=2200000] [runs=s3_standard+s3_standard,s3_ia,b2_cold]
// (runs: `+` separates backups, `,` the storage tiers of one backup's single dump)
// The parent starts the test stack (PostgreSQL, s3rver, the B2 server — in-process, so it runs here and
// not in the measured process), creates one demo tenant of ≥ 1 GB raw dump, and runs the backup in a
// child node process: the worker as it would run. It samples VmHWM (peak RSS) from /proc of that
// child and of the programs it spawns (pg_dump, zstd, age) every 50 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { getDb } from '../db/client.ts';
import { backupJobs } from '../db/schema.ts';
import type { StorageTier } from '../domain.ts';
import { parseConfig } from '../env.ts';
import { createStores } from '../storage/registry.ts';
import { startTestStack } from '../testing/stack.ts';
import { createDemoTenant } from '../testing/tenant-data.ts';
import { createBackupGroup } from './create.ts';
import { runBackupGroup } from './run-backup.ts';

const MB = 1024 * 1024;

function status(pid: number): { name: string; hwmKb: number; ppid: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    return { name: field('Name'), hwmKb: parseInt(field('VmHWM'), 10) || 0, ppid: parseInt(field('PPid'), 10) };
  } catch {
    return null; // gone
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (status(Number(entry))?.ppid === pid) out.push(Number(entry));
  }
  return out;
}

async function child(dumpGroup: string): Promise<void> {
  const config = parseConfig(process.env);
  const db = getDb(config.DATABASE_URL);
  const started = Date.now();
  await runBackupGroup({ db, config, stores: createStores(config) }, dumpGroup);
  const rows = await db.select().from(backupJobs).where(eq(backupJobs.dumpGroup, dumpGroup));
  process.stdout.write(`${JSON.stringify({ seconds: (Date.now() - started) / 1000, dump: rows[0]!.dumpSizeBytes, stored: rows[0]!.backupSizeBytes })}\n`);
  await db.$client.end();
}

async function parent(patients: number, runs: StorageTier[][]): Promise<void> {
  const stack = await startTestStack();
  try {
    const t = Date.now();
    await createDemoTenant(stack.db, { id: 'big', name: 'Big Clinic', schemaName: 'big', plan: 'premium', patients });
    console.log(`tenant with ${patients} patients created in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    for (const tiers of runs) await measure(stack.env, tiers);
  } finally {
    await stack.stop();
  }

  async function measure(env: Record<string, string>, tiers: StorageTier[]) {
    const db = getDb(env.DATABASE_URL!);
    const rows = await createBackupGroup(db, { tenantId: 'big', storageTiers: tiers, origin: 'manual', requestedBy: 'measure' });

    const t = Date.now();
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', rows[0]!.dumpGroup], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const peaks = new Map<string, number>();
    const sample = () => {
      const pids = [proc.pid!, ...childrenOf(proc.pid!)];
      for (const pid of pids) {
        const s = status(pid);
        // A child still named "node" is the fork before exec: its RSS is the parent's pages, not a program's.
        if (!s || (pid !== proc.pid && s.name === 'node')) continue;
        const name = pid === proc.pid ? 'node (strata)' : s.name;
        peaks.set(name, Math.max(peaks.get(name) ?? 0, s.hwmKb));
      }
    };
    const timer = setInterval(sample, 50);
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    clearInterval(timer);
    if (code !== 0) throw new Error(`backup child exited with ${code}`);
    const result = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; dump: number; stored: number };
    console.log(`backup to ${tiers.join(', ')}: ${result.seconds.toFixed(1)} s, raw dump ${(result.dump / MB).toFixed(0)} MB, stored ${(result.stored / MB).toFixed(0)} MB`);
    console.log(`(child wall time ${((Date.now() - t) / 1000).toFixed(1)} s, including tsx start-up)`);
    console.log('peak RSS (VmHWM):');
    for (const [name, kb] of peaks) console.log(`  ${name.padEnd(14)} ${(kb / 1024).toFixed(1)} MB`);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!);
} else {
  const patients = Number(process.argv[2] ?? 2_200_000);
  const runs = (process.argv[3] ?? 's3_standard+s3_standard,s3_ia,b2_cold').split('+').map((r) => r.split(',') as StorageTier[]);
  await parent(patients, runs);
}
