// The one way Strata puts an identifier (schema, table, role name) into SQL text: always quoted,
// so names with quotes, spaces, `;`, `$`, upper case or non-ASCII letters stay one identifier.
// Values never go through here: they are bound parameters (Drizzle's `sql` tag).

/** `"name"` with every inner `"` doubled — PostgreSQL's quoted identifier. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('an SQL identifier must not be empty');
  if (name.includes('\0')) throw new Error('an SQL identifier must not contain NUL');
  return `"${name.replaceAll('"', '""')}"`;
}

/** `'value'` with every inner `'` doubled — a string literal for SQL text that cannot take bound
 * parameters (psql scripts, DDL such as CREATE DATABASE … LC_COLLATE). Prefer parameters everywhere else. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('an SQL literal must not contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}
