import { defineConfig } from 'drizzle-kit';

// Only Strata's own tables are generated; the platform tables are created by lib/db/migrate.ts when absent.
export default defineConfig({
  dialect: 'postgresql',
  schema: './lib/db/schema.ts',
  out: './drizzle',
});
