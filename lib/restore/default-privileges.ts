// Default privileges widen the grants of restored objects: every object pg_restore creates gets the
// restoring role's global ALTER DEFAULT PRIVILEGES entries, and pg_dump's ACL entries only express the
// difference to the built-in default, so they never revoke what was added. Inside the restore's
// transaction we therefore put the restoring role's global defaults back to the built-in ones before
// the replay and restore them exactly (every aclitem) after it: restored objects get precisely the
// backed-up grants, and nobody else ever sees the change (it is never committed in between).
// Per-schema defaults (ALTER DEFAULT PRIVILEGES IN SCHEMA) are untouched: they belong to a schema's oid,
// and the tenant's own come back with the dump, after its objects. A rename keeps them with the schema:
// the moved-aside copy keeps its own (dropped with it) and an undo swaps them back with the names —
// which is why lib/restore/catalog.ts counts them as the schema's own, not as outside dependents.

const KIND = `CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
  WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END`;

/** SQL (for the restore's psql transaction) that suspends the current role's global default privileges. */
export const SUSPEND_DEFAULT_PRIVILEGES = `
CREATE TEMP TABLE strata_saved_default_acl ON COMMIT DROP AS
  SELECT d.defaclobjtype, d.defaclacl FROM pg_catalog.pg_default_acl d
  WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AND d.defaclnamespace = 0;
DO $strata$
DECLARE d record; kind text; grantee text;
BEGIN
  FOR d IN SELECT * FROM strata_saved_default_acl LOOP
    kind := ${KIND};
    FOR grantee IN SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
                   FROM pg_catalog.aclexplode(d.defaclacl) a LOOP
      EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON %s FROM %s', current_user, kind, grantee);
    END LOOP;
    -- The built-in defaults: everything for the owner; EXECUTE on functions and USAGE on types for PUBLIC.
    EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT ALL ON %s TO %I', current_user, kind, current_user);
    IF d.defaclobjtype = 'f' THEN
      EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT EXECUTE ON FUNCTIONS TO PUBLIC', current_user);
    ELSIF d.defaclobjtype = 'T' THEN
      EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT USAGE ON TYPES TO PUBLIC', current_user);
    END IF;
  END LOOP;
  IF EXISTS (SELECT FROM pg_catalog.pg_default_acl x WHERE x.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
             AND x.defaclnamespace = 0) THEN
    RAISE EXCEPTION 'strata: could not suspend the default privileges of role %', current_user;
  END IF;
END
$strata$;
`;

/** SQL that puts back exactly what SUSPEND_DEFAULT_PRIVILEGES saved, and checks it did. */
export const RESTORE_DEFAULT_PRIVILEGES = `
DO $strata$
DECLARE d record; kind text; a record;
BEGIN
  FOR d IN SELECT * FROM strata_saved_default_acl LOOP
    kind := ${KIND};
    EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON %s FROM %I', current_user, kind, current_user);
    IF d.defaclobjtype IN ('f', 'T') THEN
      EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I REVOKE ALL ON %s FROM PUBLIC', current_user, kind);
    END IF;
    FOR a IN SELECT * FROM pg_catalog.aclexplode(d.defaclacl) LOOP
      EXECUTE pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT %s ON %s TO %s%s', current_user, a.privilege_type, kind,
        CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,
        CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END LOOP;
  IF EXISTS (
    (SELECT s.defaclobjtype, x.* FROM strata_saved_default_acl s, pg_catalog.aclexplode(s.defaclacl) x
     EXCEPT
     SELECT d2.defaclobjtype, x.* FROM pg_catalog.pg_default_acl d2, pg_catalog.aclexplode(d2.defaclacl) x
     WHERE d2.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AND d2.defaclnamespace = 0)
    UNION ALL
    (SELECT d2.defaclobjtype, x.* FROM pg_catalog.pg_default_acl d2, pg_catalog.aclexplode(d2.defaclacl) x
     WHERE d2.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) AND d2.defaclnamespace = 0
     EXCEPT
     SELECT s.defaclobjtype, x.* FROM strata_saved_default_acl s, pg_catalog.aclexplode(s.defaclacl) x)
  ) THEN
    RAISE EXCEPTION 'strata: the default privileges of role % were not restored exactly', current_user;
  END IF;
END
$strata$;
`;
