// Tenant files (design.md "Tenant files") in the live views: objects and bytes done of total, for a
// backup's files_progress and a restore's files_report (both carry the four counts).
import { formatBytes } from './format';

export interface FilesCounts {
  objects_done: number;
  objects_total: number;
  bytes_done: number;
  bytes_total: number;
}

/** "files 12/40 objects · 3.1 MiB of 9.0 MiB" */
export function filesProgressLabel(f: FilesCounts): string {
  return `files ${f.objects_done}/${f.objects_total} objects · ${formatBytes(f.bytes_done)} of ${formatBytes(f.bytes_total)}`;
}

export function FilesProgressText({ files, className }: { files: FilesCounts; className?: string }) {
  return (
    <span className={className ?? 'tabular-nums'} data-testid="files-progress">
      {' · '}
      {filesProgressLabel(files)}
    </span>
  );
}

/** "files: 40 (9.0 MiB)": what a backup point with files holds. */
export function filesSummary(count: number | null | undefined, bytes: number | null | undefined): string {
  return `files: ${count ?? '—'} (${formatBytes(bytes)})`;
}
