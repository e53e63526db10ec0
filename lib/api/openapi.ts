// The OpenAPI 3.1 description of docs/design.md "HTTP API", served at /api/openapi.json.
import { ORIGINS, RESTORE_MODES, RESTORE_STATUSES, BACKUP_STATUSES, SCHEDULE_TYPES, STORAGE_TIERS, PLANS } from '../domain.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const time = { type: ['string', 'null'], format: 'date-time', example: '2026-11-26T02:00:00Z' };
const nullableString = { type: ['string', 'null'] };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const errors = {
  400: errorResponse('Bad input; `field` names the offending field.'),
  401: errorResponse('No session and no valid API token'),
  403: errorResponse('The caller’s role is too low'),
  404: errorResponse('Not found'),
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'A repeat with the same key (same caller, same route) returns the first answer.',
  schema: { type: 'string', maxLength: 200 },
};
const uuidParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } });
const tenantParam = { name: 'tenantId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } };
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const nullableInteger = { type: ['integer', 'null'] };

// Tenant files (design.md "Tenant files"). Request fields are snake_case like the rest of the bodies;
// the camelCase spelling (includeFiles, restoreFiles, …) is accepted too, and both at once must agree.
const FILES_OFF = 'Refused with 400 (field `include_files` / `restore_files`, the message naming STRATA_FILES_BUCKET) when tenant files are off: STRATA_FILES_BUCKET is not set.';
const includeFilesDoc = {
  type: 'boolean',
  default: false,
  description: `Also back up the tenant’s objects under its files prefix (in the bucket STRATA_FILES_BUCKET), listed after the dump’s snapshot was taken: their index is stored beside the manifest, their content as chunks of the chunk store (unchanged objects are not read again). ${FILES_OFF}`,
};
const restoreFilesDoc = {
  type: 'boolean',
  default: false,
  description: `Also write back every object of the backup’s file index whose current content differs by SHA-256 (or is gone), after the database part; objects already equal are left alone. Files go under the tenant’s own files prefix (in place) or \`files_prefix\` (clone). Only for a backup taken with include_files (else 400, field \`restore_files\`). A failed file part does not undo the database part: see \`files_status\` and \`files_error\` of the restore. ${FILES_OFF}`,
};
const filesPrefixDoc = {
  type: 'string',
  maxLength: 512,
  example: 'clones/t1-copy/',
  description: 'Clone target prefix: where a clone’s files are written. Required for a clone with restore_files (a new prefix, not the tenant’s own; ends with "/", no leading "/" and no ".." segment); refused in place, where the files go back under the tenant’s own prefix. Needs restore_files.',
};
const deleteExtraDoc = {
  type: 'boolean',
  default: false,
  description: 'Delete objects under the prefix that the backup’s file index does not list (objects created after the backup). Needs restore_files (else 400, field `delete_extra`).',
};
const filesOnlyDoc = {
  type: 'boolean',
  default: false,
  description: 'Only the files: the database is left untouched (no schema is moved aside or replaced). Resumes a failed file restore: only what still differs is written. Needs restore_files (else 400, field `files_only`).',
};
const alias = (of: string, doc: Record<string, unknown>) => ({ ...doc, description: `Same as \`${of}\` (camelCase spelling). ${doc.description as string}` });
const filesCounts = {
  objects_done: { type: 'integer' },
  objects_total: { type: 'integer' },
  bytes_done: { type: 'integer' },
  bytes_total: { type: 'integer' },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Strata API',
    version: '1',
    description:
      'Backups and restores of tenant schemas. Authenticate with `Authorization: Bearer strata_…` (an API token created by an admin) or a dashboard session. Roles: viewer (read), operator (+ backups), admin (+ restores). Times are ISO-8601 UTC with Z, sizes integer bytes, ids UUIDs.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  paths: {
    '/api/backups/create': {
      post: {
        summary: 'Queue a backup of a tenant (operator)',
        parameters: [idempotencyKey],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['tenant_id'],
                properties: {
                  tenant_id: { type: 'string' },
                  backup_type: { type: 'string', enum: ['full', 'incremental'], default: 'full', description: 'incremental: the dump is taken in full, but only the chunks the storage tier does not hold yet for this tenant are uploaded' },
                  storage_tier: { type: 'string', enum: STORAGE_TIERS, default: 's3_standard' },
                  include_files: includeFilesDoc,
                  includeFiles: alias('include_files', includeFilesDoc),
                },
              },
            },
          },
        },
        responses: {
          202: json({ type: 'object', required: ['message', 'job'], properties: { message: { type: 'string' }, job: ref('Backup') } }, 'Queued'),
          ...errors,
          413: errorResponse('Body larger than 64 KB'),
        },
      },
    },
    '/api/backups/tenant/{tenantId}': {
      get: {
        summary: 'A tenant’s backups, newest first (viewer)',
        parameters: [
          tenantParam,
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: json(
            { type: 'object', properties: { backups: { type: 'array', items: ref('Backup') }, next_cursor: nullableString } },
            'A page of backups',
          ),
          ...errors,
        },
      },
    },
    '/api/backups/restore': {
      post: {
        summary: 'Queue a restore (admin)',
        description:
          'in_place: the live schema is moved aside (kept for undo for STRATA_UNDO_RETENTION_DAYS) and replaced by the backup; `confirm` must equal the tenant’s name. clone: restores into `target_schema`, never touching the live tenant; `confirm` must equal `target_schema`. With `restore_files` the tenant’s files are written back after the database part (phase `files`); their outcome is the restore’s `files_status`, `files_report` and `files_error`.',
        parameters: [idempotencyKey],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['tenant_id', 'backup_job_id', 'confirm'],
                properties: {
                  tenant_id: { type: 'string' },
                  backup_job_id: { type: 'string', format: 'uuid' },
                  mode: { type: 'string', enum: RESTORE_MODES, default: 'in_place' },
                  target_schema: { type: 'string' },
                  confirm: { type: 'string' },
                  allow_unsigned: {
                    type: 'boolean',
                    default: false,
                    description: 'Restore a backup whose manifest is unsigned (taken before signing existed). Refused when the catalog recorded the backup as signed.',
                  },
                  exact_copy: { type: 'boolean', default: false, description: 'Read exactly this copy, not the best copy of its backup point.' },
                  restore_files: restoreFilesDoc,
                  restoreFiles: alias('restore_files', restoreFilesDoc),
                  files_prefix: filesPrefixDoc,
                  filesPrefix: alias('files_prefix', filesPrefixDoc),
                  delete_extra: deleteExtraDoc,
                  deleteExtra: alias('delete_extra', deleteExtraDoc),
                  files_only: filesOnlyDoc,
                  filesOnly: alias('files_only', filesOnlyDoc),
                },
              },
            },
          },
        },
        responses: {
          202: json({ type: 'object', properties: { message: { type: 'string' }, restore: ref('Restore') } }, 'Queued'),
          ...errors,
          409: errorResponse('A restore of this tenant is already pending or running'),
          413: errorResponse('Body larger than 64 KB'),
        },
      },
    },
    '/api/backups/schedules/{tenantId}': {
      get: {
        summary: 'A tenant’s schedules (viewer)',
        parameters: [tenantParam],
        responses: { 200: json({ type: 'object', properties: { schedules: { type: 'array', items: ref('Schedule') } } }, 'Schedules'), ...errors },
      },
    },
    '/api/backups/jobs/{id}': {
      get: {
        summary: 'One backup (viewer)',
        parameters: [uuidParam('id')],
        responses: {
          200: json(
            {
              type: 'object',
              properties: {
                job: {
                  allOf: [
                    ref('Backup'),
                    {
                      type: 'object',
                      properties: {
                        progress_bytes: { type: 'integer', description: 'stored bytes written so far (while running)' },
                        files_progress: {
                          type: ['object', 'null'],
                          properties: filesCounts,
                          description: 'Only for a backup with include_files: objects and bytes of the tenant’s files done and total while they are stored; null before the file part starts.',
                        },
                        files_added_bytes: { ...nullableInteger, description: 'Only with include_files: stored bytes of file chunks this copy uploaded (the tier lacked them).' },
                      },
                    },
                  ],
                },
              },
            },
            'The backup',
          ),
          ...errors,
        },
      },
    },
    '/api/restores/{id}': {
      get: {
        summary: 'One restore (viewer)',
        parameters: [uuidParam('id')],
        responses: { 200: json({ type: 'object', properties: { restore: ref('Restore') } }, 'The restore'), ...errors },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'strata_… API token' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'unsupported', 'internal', 'database_error', 'database_unavailable'] },
              message: { type: 'string' },
              field: { type: 'string' },
            },
          },
        },
      },
      Backup: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          tenant_id: { type: 'string' },
          tier_id: { type: ['string', 'null'], enum: [...PLANS, null], description: 'plan at backup time' },
          backup_type: { type: 'string', enum: ['full', 'incremental'] },
          storage_tier: { type: 'string', enum: STORAGE_TIERS },
          origin: { type: 'string', enum: ORIGINS },
          status: { type: 'string', enum: BACKUP_STATUSES },
          backup_size_bytes: { type: ['integer', 'null'] },
          dump_size_bytes: { type: ['integer', 'null'] },
          added_bytes: { type: ['integer', 'null'], description: 'stored bytes this copy added: all of a full backup, only the new chunks of an incremental one' },
          backup_location: { ...nullableString, example: 's3://bucket/backups/t1/2026/11/uuid/dump.zst.age', description: 'the dump object; for an incremental copy its manifest.json, which lists its chunks' },
          sha256_stored: nullableString,
          sha256_dump: nullableString,
          started_at: time,
          completed_at: time,
          expires_at: time,
          legal_hold: { type: 'boolean' },
          error_message: nullableString,
          requested_by: { type: 'string' },
          include_files: { type: 'boolean', description: 'Present (true) only when the backup point also holds the tenant’s files.' },
          files_count: { ...nullableInteger, description: 'Only with include_files: the objects in the backup’s file index (null until the backup completes).' },
          files_bytes: { ...nullableInteger, description: 'Only with include_files: the sum of their sizes (plaintext bytes): what a file restore may write at most.' },
        },
      },
      Restore: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          tenant_id: { type: 'string' },
          backup_id: { type: ['string', 'null'], format: 'uuid' },
          mode: { type: 'string', enum: RESTORE_MODES },
          target_schema: { type: 'string' },
          moved_aside_schema: nullableString,
          undoes: { type: ['string', 'null'], format: 'uuid' },
          status: { type: 'string', enum: RESTORE_STATUSES },
          started_at: time,
          completed_at: time,
          error_message: nullableString,
          requested_by: { type: 'string' },
          phase: {
            type: ['string', 'null'],
            enum: ['starting', 'downloading', 'decrypting', 'verifying', 'swapping', 'files', 'completed', null],
            description: 'what a running restore is doing; `files`: writing the tenant’s files back',
          },
          progress_bytes: { type: 'integer' },
          total_bytes: nullableInteger,
          undo_expires_at: time,
          copy_backup_id: { type: ['string', 'null'], format: 'uuid', description: 'the copy of the backup point the restore read' },
          exact_copy: { type: 'boolean' },
          restore_files: { type: 'boolean', description: 'The tenant’s files are written back too (request field restore_files).' },
          files_only: { type: 'boolean', description: 'Only the files; the database was left untouched.' },
          files_prefix: { ...nullableString, description: 'A clone’s files prefix; null: the tenant’s own prefix.' },
          delete_extra: { type: 'boolean', description: 'Objects under the prefix that the backup’s index does not list are deleted.' },
          files_status: { type: ['string', 'null'], enum: ['pending', 'running', 'completed', 'failed', null], description: 'The file part; null without restore_files.' },
          files_report: {
            type: ['object', 'null'],
            description: 'The file part’s progress and outcome; null before it starts.',
            properties: {
              ...filesCounts,
              written: { type: 'integer', description: 'objects written back (their content differed or they were gone)' },
              unchanged: { type: 'integer', description: 'objects whose content already was the backed-up one' },
              deleted: { type: 'integer', description: 'objects not in the index, deleted (delete_extra)' },
              failed: {
                type: 'array',
                description: 'objects that could not be written (or deleted), with why',
                items: { type: 'object', properties: { key: { type: 'string' }, error: { type: 'string' } } },
              },
            },
          },
          files_error: { ...nullableString, description: 'Why the file part failed; the database part stays restored.' },
        },
      },
      Schedule: {
        type: 'object',
        properties: {
          tenant_id: { type: 'string' },
          schedule_type: { type: 'string', enum: SCHEDULE_TYPES },
          storage_tier: { type: 'string', enum: STORAGE_TIERS },
          is_paused: { type: 'boolean' },
          last_run_at: time,
          next_run_at: time,
        },
      },
    },
  },
} as const;
