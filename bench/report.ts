// bench/results.json (everything measured) and bench/results.md (the table the README quotes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bench } from './harness.ts';

const ITEMS: Record<number, string> = {
  1: 'Backup speed',
  2: 'Memory',
  3: 'Restore speed',
  4: 'Fleet',
  5: 'Production impact',
  6: 'Dashboard',
  7: 'B2 path',
  8: 'CLI',
  9: 'Large-schema restore',
  10: 'Incremental backups',
  11: 'Tenant files',
};

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function writeResults(bench: Bench, started: Date, outDir: string): { json: string; md: string } {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    date: started.toISOString(),
    mode: bench.quick ? 'quick' : 'full',
  };
  const json = path.join(outDir, 'results.json');
  fs.writeFileSync(json, `${JSON.stringify({ machine, figures: bench.figures, details: bench.details, profiles: bench.profiles }, null, 2)}\n`);

  const lines: string[] = [];
  lines.push(`Measured ${machine.date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB RAM, Node ${machine.node}, \`npm run bench${bench.quick ? ' -- --quick' : ''}\`.`);
  lines.push(loadSentence(String(bench.details.loadAtStart), String(bench.details.loadAtEnd), machine.cpus));
  lines.push('');
  lines.push('| # | Item | Figure | Value | Target | Result |');
  lines.push('|---|---|---|---|---|---|');
  // By item (a stable sort: within an item, in the order measured; item 8's start-up runs first).
  const byItem = [...bench.figures].sort((a, b) => a.item - b.item);
  for (const f of byItem.filter((x) => x.value !== null)) {
    const value = `${f.value} ${f.unit}${f.note ? ` (${f.note})` : ''}`;
    const result = f.met === undefined ? '' : f.met ? 'met' : '**missed**';
    lines.push(`| ${f.item} | ${ITEMS[f.item]} | ${cell(f.label)} | ${cell(value)} | ${cell(f.target ?? '')} | ${result} |`);
  }
  const profiles = byItem.filter((x) => x.value === null);
  if (profiles.length > 0) {
    lines.push('');
    lines.push('Profiles (CPU seconds per process from /proc/<pid>/stat; PostgreSQL counts every backend):');
    lines.push('');
    for (const f of profiles) lines.push(`- [${f.item}] ${f.label}: ${f.note ?? ''}`);
  }
  const md = path.join(outDir, 'results.md');
  fs.writeFileSync(md, `${lines.join('\n')}\n`);
  return { json, md };
}

/**
 * What the load averages say about the run, derived from them rather than assumed: the start figure is taken
 * before the bench starts anything, so a 1-minute load there of a quarter of the cores or more is other work.
 */
export function loadSentence(atStart: string, atEnd: string, cpus: number): string {
  const oneMinute = Number(atStart.split(' ')[0]);
  const figures = `load average ${atStart} at the start, before the bench started anything; ${atEnd} at the end, its own work included`;
  return Number.isFinite(oneMinute) && oneMinute >= cpus / 4
    ? `The cores were shared with other work (${figures}): single figures are noisy, ratios measured back to back less so.`
    : `The machine was otherwise idle when the bench started (${figures}).`;
}
