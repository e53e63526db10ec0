// Roles are ordered: each one can do everything the one before it can.
import { ROLES, type Role } from '../domain.ts';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What each role adds, in the words the Users page shows. */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: 'reads everything',
  operator: 'viewer + starts backups and verifications',
  admin: 'operator + restores, undo, legal holds, schedules, policies, tenants, users and API tokens',
};
