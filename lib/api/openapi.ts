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
        summary: 'Queue a full backup of a tenant (operator)',
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
          'in_place: the live schema is moved aside (kept for undo for STRATA_UNDO_RETENTION_DAYS) and replaced by the backup; `confirm` must equal the tenant’s name. clone: restores into `target_schema`, never touching the live tenant; `confirm` must equal `target_schema`.',
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
        responses: { 200: json({ type: 'object', properties: { job: ref('Backup') } }, 'The backup'), ...errors },
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
