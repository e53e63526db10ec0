ALTER TABLE "backup_jobs" ADD COLUMN "layout" text;--> statement-breakpoint
ALTER TABLE "backup_retention_policies" ADD COLUMN "layout" text DEFAULT 'seed' NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "copy_backup_id" uuid;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "exact_copy" boolean DEFAULT false NOT NULL;