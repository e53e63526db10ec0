CREATE TABLE "backup_chunks" (
	"backup_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"chunk_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chunks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"storage_tier" text NOT NULL,
	"chunk_mac" text NOT NULL,
	"object_key" text NOT NULL,
	"plain_bytes" bigint NOT NULL,
	"stored_bytes" bigint NOT NULL,
	"sha256_stored" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_referenced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"gc_started_at" timestamp with time zone,
	CONSTRAINT "chunks_object_key_unique" UNIQUE("object_key")
);
--> statement-breakpoint
ALTER TABLE "backup_chunks" ADD CONSTRAINT "backup_chunks_chunk_id_chunks_id_fk" FOREIGN KEY ("chunk_id") REFERENCES "public"."chunks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backup_chunks_pk" ON "backup_chunks" USING btree ("backup_id","position");--> statement-breakpoint
CREATE INDEX "backup_chunks_chunk_idx" ON "backup_chunks" USING btree ("chunk_id");--> statement-breakpoint
CREATE UNIQUE INDEX "chunks_live_idx" ON "chunks" USING btree ("tenant_id","storage_tier","chunk_mac") WHERE gc_started_at is null;--> statement-breakpoint
CREATE INDEX "chunks_gc_idx" ON "chunks" USING btree ("last_referenced_at");