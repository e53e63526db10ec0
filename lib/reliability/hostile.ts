// Hostile input for the abuse cases: quotes and SQL, shell substitutions, newlines, a 10 kB string,
// unicode, path traversal, flag look-alikes. `mark` is a file a shell would create if one ran.
export function hostileValues(mark: string): string[] {
  return [
    `x'; drop table tenants; --`,
    `$(touch ${mark})`,
    `\`touch ${mark}\``,
    'line\nbreak',
    'x'.repeat(10_240),
    'Ωmega ☃ 😀',
    '"quoted" \\ back',
    '../../etc/passwd',
    '--json',
    ' ',
    `a;b|c&d>${mark}`,
    'robert"); DROP SCHEMA public CASCADE; --',
  ];
}
