CREATE TABLE "restore_swaps" (
	"restore_id" uuid PRIMARY KEY NOT NULL,
	"moved_aside_schema" text,
	"committed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "restore_swaps" ADD CONSTRAINT "restore_swaps_restore_id_restore_jobs_id_fk" FOREIGN KEY ("restore_id") REFERENCES "public"."restore_jobs"("id") ON DELETE cascade ON UPDATE no action;