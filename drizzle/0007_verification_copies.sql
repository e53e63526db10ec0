ALTER TABLE "backup_verifications" ADD COLUMN "copy_backup_id" uuid;--> statement-breakpoint
ALTER TABLE "backup_verifications" ADD COLUMN "exact_copy" boolean DEFAULT false NOT NULL;