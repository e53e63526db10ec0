ALTER TABLE "backup_jobs" ADD COLUMN "signed" boolean;--> statement-breakpoint
ALTER TABLE "backup_verifications" ADD COLUMN "allow_unsigned" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "allow_unsigned" boolean DEFAULT false NOT NULL;