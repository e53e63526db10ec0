// Secrets that must never reach a log line, an error_message, a webhook or a JSON answer
// (STYLE.md #13): the database URLs, their passwords (as written and URL-decoded) and the other
// keys of the configuration. Every message built from a tool's stderr or a driver error passes here.
import { scrubQueryText } from '../db/errors.ts';
import type { Config } from '../env.ts';

export const REDACTED = '**redacted**';

type SecretSource = Pick<Config, 'DATABASE_URL' | 'sourceUrl'> &
  Partial<Pick<Config, 'BACKUP_SOURCE_URL' | 'STRATA_RESTORE_DATABASE_URL' | 'B2_APPLICATION_KEY' | 'AUTH_SECRET' | 'AUTH_OIDC_CLIENT_SECRET' | 'AWS_SECRET_ACCESS_KEY' | 'STRATA_FILES_SECRET_ACCESS_KEY'>>;

function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  const found = [url];
  try {
    const u = new URL(url);
    if (u.password) {
      found.push(u.password);
      try {
        found.push(decodeURIComponent(u.password));
      } catch {
        // a malformed escape: the raw form is already listed
      }
    }
    const queryPassword = u.searchParams.get('password');
    if (queryPassword) found.push(queryPassword);
  } catch {
    // not a parseable URL: only the whole string can be recognized
  }
  return found;
}

/** Every secret of the configuration, longest first (so a URL is replaced before the password inside it). */
export function secretsOf(config: SecretSource): string[] {
  const all = [
    ...urlSecrets(config.sourceUrl),
    ...urlSecrets(config.DATABASE_URL),
    ...urlSecrets(config.BACKUP_SOURCE_URL),
    ...urlSecrets(config.STRATA_RESTORE_DATABASE_URL),
    config.B2_APPLICATION_KEY,
    config.AWS_SECRET_ACCESS_KEY,
    config.STRATA_FILES_SECRET_ACCESS_KEY,
    config.AUTH_SECRET,
    config.AUTH_OIDC_CLIENT_SECRET,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  return [...new Set(all)].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every secret of `config` replaced by `**redacted**`, and the password of any other
 * `postgres://user:password@host` URL in it masked too (an error may quote a URL we never saw).
 * For the operator's log: SQL text stays.
 */
export function maskSecrets(text: string, config: SecretSource): string {
  let out = text;
  for (const secret of secretsOf(config)) out = out.split(secret).join(REDACTED);
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, `$1${REDACTED}@`);
}

/**
 * What a user may see of an error text (job rows, webhooks, CLI, API): secrets masked, and
 * Drizzle's "Failed query: <SQL> params: <values>" replaced (lib/db/errors.ts).
 */
export function redactSecrets(text: string, config: SecretSource): string {
  return scrubQueryText(maskSecrets(text, config));
}
