CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "backup_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"tenant_id" text NOT NULL,
	"tier_id" text,
	"backup_type" text DEFAULT 'full' NOT NULL,
	"storage_tier" text NOT NULL,
	"origin" text DEFAULT 'manual' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"dump_group" uuid DEFAULT gen_random_uuid() NOT NULL,
	"backup_size_bytes" bigint,
	"dump_size_bytes" bigint,
	"progress_bytes" bigint DEFAULT 0 NOT NULL,
	"backup_location" text,
	"sha256_stored" text,
	"sha256_dump" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"legal_hold" boolean DEFAULT false NOT NULL,
	"error_message" text,
	"requested_by" text DEFAULT 'system' NOT NULL,
	"delete_decided_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"delete_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"lease_expires_at" timestamp with time zone,
	CONSTRAINT "backup_jobs_seq_unique" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "backup_retention_policies" (
	"id" serial PRIMARY KEY NOT NULL,
	"tier_id" text NOT NULL,
	"daily_retention_days" integer DEFAULT 0 NOT NULL,
	"weekly_retention_weeks" integer DEFAULT 0 NOT NULL,
	"monthly_retention_months" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backup_retention_policies_tier_id_unique" UNIQUE("tier_id")
);
--> statement-breakpoint
CREATE TABLE "backup_schedules" (
	"id" serial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"schedule_type" text NOT NULL,
	"storage_tier" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"is_paused" boolean DEFAULT false NOT NULL,
	"last_run_at" timestamp with time zone,
	"next_run_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_verifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"backup_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"tables" integer,
	"rows" bigint,
	"details" jsonb,
	"is_drill" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"error_message" text,
	"requested_by" text DEFAULT 'system' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"lease_expires_at" timestamp with time zone,
	CONSTRAINT "backup_verifications_seq_unique" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text NOT NULL,
	"actor" text NOT NULL,
	"route" text NOT NULL,
	"status" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "restore_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"tenant_id" text NOT NULL,
	"backup_id" uuid,
	"mode" text NOT NULL,
	"target_schema" text NOT NULL,
	"moved_aside_schema" text,
	"undoes" uuid,
	"status" text DEFAULT 'pending' NOT NULL,
	"phase" text,
	"progress_bytes" bigint DEFAULT 0 NOT NULL,
	"total_bytes" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"undo_expires_at" timestamp with time zone,
	"undo_dropped_at" timestamp with time zone,
	"error_message" text,
	"requested_by" text DEFAULT 'system' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text,
	"lease_expires_at" timestamp with time zone,
	CONSTRAINT "restore_jobs_seq_unique" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "tenant_state" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"name" text,
	"schema_name" text,
	"tier_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"rebuilt_from_manifest" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"password_hash" text,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "worker_heartbeats" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"version" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"running_jobs" integer DEFAULT 0 NOT NULL,
	"stopped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backup_jobs_tenant_started_idx" ON "backup_jobs" USING btree ("tenant_id","started_at" DESC NULLS LAST,"seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backup_jobs_tenant_created_idx" ON "backup_jobs" USING btree ("tenant_id","created_at" DESC NULLS LAST,"seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backup_jobs_status_idx" ON "backup_jobs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "backup_jobs_claim_idx" ON "backup_jobs" USING btree ("run_after") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "backup_jobs_expires_idx" ON "backup_jobs" USING btree ("expires_at") WHERE status = 'completed';--> statement-breakpoint
CREATE INDEX "backup_jobs_dump_group_idx" ON "backup_jobs" USING btree ("dump_group");--> statement-breakpoint
CREATE UNIQUE INDEX "backup_schedules_tenant_type_uq" ON "backup_schedules" USING btree ("tenant_id","schedule_type");--> statement-breakpoint
CREATE INDEX "backup_schedules_due_idx" ON "backup_schedules" USING btree ("next_run_at") WHERE is_active and not is_paused;--> statement-breakpoint
CREATE INDEX "backup_verifications_backup_idx" ON "backup_verifications" USING btree ("backup_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "backup_verifications_claim_idx" ON "backup_verifications" USING btree ("run_after") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "idempotency_keys_uq" ON "idempotency_keys" USING btree ("key","actor","route");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_open_uq" ON "incidents" USING btree ("kind","subject") WHERE closed_at is null;--> statement-breakpoint
CREATE INDEX "restore_jobs_tenant_idx" ON "restore_jobs" USING btree ("tenant_id","created_at" DESC NULLS LAST,"seq" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "restore_jobs_claim_idx" ON "restore_jobs" USING btree ("run_after") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "restore_jobs_one_active_uq" ON "restore_jobs" USING btree ("tenant_id") WHERE status in ('pending', 'running');