// The backup history groups a page's rows by backup point: the copies of one dump (one dump_group,
// stored in several storage tiers) are created together and listed next to each other
// (lib/db/queries/backups.ts orders by created_at, seq), and the page shows each point once.

/** Runs of consecutive rows of one dump group, in their order: one run per backup point. */
export function backupPoints<T extends { dumpGroup: string }>(rows: readonly T[]): T[][] {
  const points: T[][] = [];
  for (const row of rows) {
    const last = points.at(-1);
    if (last && last[0]!.dumpGroup === row.dumpGroup) last.push(row);
    else points.push([row]);
  }
  return points;
}
