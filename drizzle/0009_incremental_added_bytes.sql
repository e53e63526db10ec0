ALTER TABLE "backup_jobs" ADD COLUMN "added_bytes" bigint;--> statement-breakpoint
-- Every earlier backup is a full one: it added all it stores.
UPDATE "backup_jobs" SET "added_bytes" = "backup_size_bytes" WHERE "backup_type" = 'full' AND "backup_size_bytes" IS NOT NULL;