CREATE TABLE "backup_file_chunks" (
	"backup_id" uuid NOT NULL,
	"chunk_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_files" (
	"backup_id" uuid NOT NULL,
	"key" text NOT NULL,
	"size" bigint NOT NULL,
	"etag" text NOT NULL,
	"sha256" text NOT NULL,
	"entry" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "include_files" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_prefix" text;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_count" integer;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_bytes" bigint;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_stored_bytes" bigint;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_added_bytes" bigint;--> statement-breakpoint
ALTER TABLE "backup_jobs" ADD COLUMN "files_progress" jsonb;--> statement-breakpoint
ALTER TABLE "backup_retention_policies" ADD COLUMN "files_origins" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "restore_files" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "files_only" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "files_prefix" text;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "delete_extra" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "files_status" text;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "files_report" jsonb;--> statement-breakpoint
ALTER TABLE "restore_jobs" ADD COLUMN "files_error" text;--> statement-breakpoint
ALTER TABLE "tenant_state" ADD COLUMN "files_prefix" text;--> statement-breakpoint
ALTER TABLE "backup_file_chunks" ADD CONSTRAINT "backup_file_chunks_chunk_id_chunks_id_fk" FOREIGN KEY ("chunk_id") REFERENCES "public"."chunks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backup_file_chunks_pk" ON "backup_file_chunks" USING btree ("backup_id","chunk_id");--> statement-breakpoint
CREATE INDEX "backup_file_chunks_chunk_idx" ON "backup_file_chunks" USING btree ("chunk_id");--> statement-breakpoint
CREATE UNIQUE INDEX "backup_files_pk" ON "backup_files" USING btree ("backup_id","key");