// How long the chunks of incremental backups outlive their references (design.md "Incremental
// backups"): the rules lib/chunks/store.ts collects by and `strata cost simulate` prices with.

/** Grace period between a chunk's last reference and its collection. */
export const CHUNK_GRACE_SECONDS = 24 * 3600;

/**
 * The chunks of a tenant's newest incremental copy in a tier (completed, or since deleted by prune)
 * are kept this long after that copy started, so the next incremental backup there has a base even
 * when the copy is kept no longer than the time between two backups (cost-optimized dailies: S3
 * Standard for 1 day, one backup a day). Covers daily and weekly cadences.
 */
export const CHUNK_BASE_KEEP_SECONDS = 8 * 24 * 3600;
