// Every way a restore, undo or verification can be refused or fail, as a typed error with a reason a
// person can act on. `code` is the API error code of docs/design.md; `reason` is the precise cause.

export type RestoreErrorCode = 'bad_request' | 'not_found' | 'conflict' | 'unsupported' | 'internal';

export type RestoreFailureReason =
  | 'no_space'
  | 'missing'
  | 'corrupt'
  | 'truncated'
  | 'wrong_key'
  | 'invalid_dump'
  | 'untrusted'
  | 'foreign_entry'
  | 'dependents'
  | 'prerequisites'
  | 'text_references'
  | 'lock_capacity'
  | 'replay_failed'
  | 'not_undoable'
  | 'conflict'
  | 'invalid_request'
  | 'not_found'
  | 'aborted'
  // The replay role is (or can become) a superuser without STRATA_ALLOW_SUPERUSER_RESTORE (issue 13).
  | 'unsafe_role';

export class RestoreError extends Error {
  constructor(
    readonly reason: RestoreFailureReason,
    readonly code: RestoreErrorCode,
    message: string,
    options?: { cause?: unknown; field?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.field = options?.field;
  }
  readonly field: string | undefined;
}

/** STRATA_TMP_DIR has less free space than the restore needs. Checked before any byte is downloaded. */
export class NotEnoughSpaceError extends RestoreError {
  constructor(readonly dir: string, readonly neededBytes: number, readonly freeBytes: number) {
    super(
      'no_space',
      'internal',
      `not enough free space in STRATA_TMP_DIR (${dir}): the restore needs ${neededBytes} bytes ` +
        `(stored size + dump size + STRATA_TMP_MIN_FREE_MB), ${freeBytes} are free`,
    );
  }
}

/** The backup object (or its manifest) is not in the store. */
export class BackupObjectMissingError extends RestoreError {
  constructor(readonly location: string, options?: { cause?: unknown }) {
    super('missing', 'not_found', `backup object not found: ${location}`, options);
  }
}

/** Bytes differ from what the manifest recorded (sha256 mismatch): the object is corrupt. */
export class CorruptBackupError extends RestoreError {
  constructor(readonly what: 'stored object' | 'dump' | `chunk ${number}`, expected: string, actual: string, location: string) {
    super('corrupt', 'internal', `${what} of ${location} is corrupt: sha256 ${actual}, the manifest says ${expected}`);
  }
}

/** Fewer (or more) bytes than the manifest recorded: the object is truncated. */
export class TruncatedBackupError extends RestoreError {
  constructor(readonly what: 'stored object' | 'dump' | `chunk ${number}`, expected: number, actual: number, location: string) {
    super('truncated', 'internal', `${what} of ${location} is truncated: ${actual} bytes, the manifest says ${expected}`);
  }
}

/** None of the keys in BACKUP_DECRYPTION_IDENTITY_FILE can decrypt the backup. */
export class WrongKeyError extends RestoreError {
  constructor(location: string, recipients: string[]) {
    super(
      'wrong_key',
      'internal',
      `cannot decrypt ${location}: no key in BACKUP_DECRYPTION_IDENTITY_FILE matches its recipients` +
        (recipients.length ? ` (${recipients.join(', ')})` : ''),
    );
  }
}

/** The dump is not a readable pg_dump archive, or a tool in the pipeline failed. */
export class InvalidDumpError extends RestoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_dump', 'internal', message, options);
  }
}

/**
 * A backup read from a bucket that Strata will not use (issue 13): its manifest is unsigned, signed by
 * no key of STRATA_VERIFY_KEYS, or does not describe the catalog's backup (id, tenant, location, sha256).
 */
export class UntrustedBackupError extends RestoreError {
  constructor(readonly backupId: string, readonly location: string, readonly why: string) {
    super('untrusted', 'conflict', `refused backup ${backupId} (${location}): ${why}`);
  }
}

/** The dump's table of contents holds an entry outside the tenant's schema: refused before any replay. */
export class ForeignTocEntryError extends RestoreError {
  constructor(readonly location: string, readonly schema: string, readonly entries: string[]) {
    super(
      'foreign_entry',
      'conflict',
      `refused before any replay: the dump ${location} holds entries outside schema ${JSON.stringify(schema)}: ${entries.slice(0, 10).join('; ')}` +
        (entries.length > 10 ? ` (and ${entries.length - 10} more)` : ''),
    );
  }
}

/** Objects in other schemas depend on the schema a restore would move aside. */
export class DependentObjectsError extends RestoreError {
  constructor(readonly schema: string, readonly dependents: string[]) {
    super(
      'dependents',
      'conflict',
      `refused: objects in other schemas depend on schema ${JSON.stringify(schema)} and would follow it when it is ` +
        `moved aside: ${dependents.join('; ')}`,
    );
  }
}

/** The target database lacks what the dump needs (roles, extensions, `public` tables, types, functions). */
export class MissingPrerequisitesError extends RestoreError {
  constructor(readonly missing: string[]) {
    super('prerequisites', 'conflict', `refused before touching anything: the target database lacks what the backup needs: ${missing.join('; ')}`);
  }
}

/**
 * The restore's one transaction would need more locks than the server's lock table holds (SQLSTATE
 * 53200, "out of shared memory"), and the tenant cannot be staged in several (lib/restore/staged.ts).
 * Names the setting to raise and to what value.
 */
export class LockCapacityError extends RestoreError {
  constructor(message: string) {
    super('lock_capacity', 'conflict', message);
  }
}

/** Functions whose body or settings name the source schema in text: a rename cannot rewrite them. */
export class SchemaTextReferenceError extends RestoreError {
  constructor(readonly schema: string, readonly functions: string[]) {
    super(
      'text_references',
      'unsupported',
      `refused: these functions name the source schema ${JSON.stringify(schema)} in their body or settings, so a copy ` +
        `under another name would still read and write the original: ${functions.join(', ')}`,
    );
  }
}

/** Replaying the dump failed; the transaction rolled back and the target is as it was. */
export class ReplayFailedError extends RestoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('replay_failed', 'internal', `${message} (rolled back: the target schema is unchanged)`, options);
  }
}

export class UndoNotAllowedError extends RestoreError {
  constructor(message: string) {
    super('not_undoable', 'conflict', message);
  }
}

/** A restore is already pending or running for this tenant (restore_jobs_one_active_uq). */
export class RestoreConflictError extends RestoreError {
  constructor(readonly tenantId: string, message?: string) {
    super('conflict', 'conflict', message ?? `a restore of tenant ${tenantId} is already pending or running`);
  }
}

/** Bad input to createRestore/createUndo; `field` names the offending field. */
export class RestoreRequestError extends RestoreError {
  constructor(message: string, field?: string) {
    super('invalid_request', 'bad_request', message, { field });
  }
}

export class RestoreNotFoundError extends RestoreError {
  constructor(what: string, field?: string) {
    super('not_found', 'not_found', `${what} not found`, { field });
  }
}

export class RestoreAbortedError extends RestoreError {
  constructor() {
    super('aborted', 'internal', 'the restore was cancelled');
  }
}
