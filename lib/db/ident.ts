// The one way Strata puts an identifier (schema, table, role name) into SQL text: always quoted,
// so names with quotes, spaces, `;`, `$`, upper case or non-ASCII letters stay one identifier.
// Values never go through here: they are bound parameters (Drizzle's `sql` tag).

/** `"name"` with every inner `"` doubled — PostgreSQL's quoted identifier. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('an SQL identifier must not be empty');
  if (name.includes('\0')) throw new Error('an SQL identifier must not contain NUL');
  return `"${name.replaceAll('"', '""')}"`;
}
