// Weekly restore drill: the newest completed backup of a random sample of active tenants is
// verified like `strata verify` (download, checksums, decrypt, an exact restore into a scratch database,
// tables and rows counted), marked is_drill.
// A failing drill opens a drill_failed incident (see the verify runner). Drills run unattended, so
// they trust the bucket no more than a person would (issue 13): verifyBackup refuses a manifest that
// is unsigned (drill rows never carry allow_unsigned), signed by an unknown key, or not the catalog's,
// and a dump with entries outside the tenant's schema, before anything is replayed.
import { sql } from 'drizzle-orm';
import type { Db } from '../lib/db/client.ts';
import { platformTenantsSql } from '../lib/db/platform.ts';
import type { Config } from '../lib/env.ts';

export async function queueDrills(db: Db, config: Pick<Config, 'STRATA_DRILL_SAMPLE'>): Promise<{ queued: string[] }> {
  if (config.STRATA_DRILL_SAMPLE === 0) return { queued: [] };
  const res = await db.execute<{ backup_id: string }>(sql`
    with newest as (
      select distinct on (b.tenant_id) b.id, b.tenant_id from backup_jobs b
      join ${platformTenantsSql} t on t.id = b.tenant_id
      where b.status = 'completed'
      -- the newest backup point's cheapest copy to read (design.md "Restore": S3 Standard, B2, Standard-IA)
      order by b.tenant_id, b.started_at desc, b.dump_group, array_position(array['s3_standard', 'b2_cold', 's3_ia'], b.storage_tier), b.id desc
    ),
    sample as (select * from newest order by random() limit ${config.STRATA_DRILL_SAMPLE})
    insert into backup_verifications (backup_id, tenant_id, status, is_drill, requested_by)
    select id, tenant_id, 'pending', true, 'drill' from sample
    returning backup_id::text`);
  return { queued: res.rows.map((r) => r.backup_id) };
}
