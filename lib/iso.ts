// The one way Strata writes a time: ISO-8601 UTC to the second, `2026-11-26T02:00:00Z` (docs/design.md
// "Data formats"). The backup engine stores times in whole seconds, so nothing is lost and a catalog
// rebuilt from manifests is exact.
export function isoUtc(date: Date | string): string;
export function isoUtc(date: Date | string | null | undefined): string | null;
export function isoUtc(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
