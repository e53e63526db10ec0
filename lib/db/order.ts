// ORDER BY a column descending the way the catalog's indexes are built (drizzle-kit writes
// `DESC NULLS LAST`). Plain `desc(col)` means DESC NULLS FIRST in PostgreSQL, which such an index
// cannot return in order: the planner then sorts every row of the tenant instead of reading the
// index (a deep history page over 50k rows: 115 ms with an on-disk sort against 9 ms).
import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

export const newestFirst = (column: AnyColumn): SQL => sql`${column} desc nulls last`;
