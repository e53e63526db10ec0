import type { Metadata } from 'next';
import { appConfig, appDb } from '@/lib/db/queries/connection';
import { listUsers } from '@/lib/db/queries/users';
import { listApiTokens } from '@/lib/auth/tokens';
import { currentActor } from '@/lib/auth/session';
import { ROLE_DESCRIPTIONS } from '@/lib/auth/roles';
import { ROLES } from '@/lib/domain';
import { Badge, Card, EmptyState, PageHeader, Table, Td, Th } from '@/components/ui';
import { formatDateTime } from '@/components/format';
import { ActionButton } from '@/components/action-button';
import { CreateTokenForm, CreateUserForm } from '@/components/user-forms';
import { createTokenAction, createUserAction, revokeTokenAction, setUserDisabledAction, setUserRoleAction } from './actions';

export const metadata: Metadata = { title: 'Users & API tokens' };
export const dynamic = 'force-dynamic';

export default async function UsersPage() {
  const actor = await currentActor();
  if (actor?.role !== 'admin') {
    return <EmptyState title="Admins only">Users and API tokens are managed by admins.</EmptyState>;
  }
  const db = appDb();
  const tz = appConfig().STRATA_TIMEZONE;
  const [users, tokens] = await Promise.all([listUsers(db), listApiTokens(db)]);
  return (
    <>
      <PageHeader title="Users & API tokens" subtitle={ROLES.map((r) => `${r}: ${ROLE_DESCRIPTIONS[r]}`).join(' · ')} />
      <div className="space-y-6">
        <Card title="Users">
          <Table label="Users">
            <thead>
              <tr>
                <Th>Email</Th>
                <Th>Role</Th>
                <Th className="hidden sm:table-cell">Created</Th>
                <Th>Actions</Th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {users.map((u) => (
                <tr key={u.id}>
                  <Td className="break-all">
                    {u.email} {u.disabledAt ? <Badge tone="gray">disabled</Badge> : null}
                  </Td>
                  <Td>
                    <Badge tone="blue">{u.role}</Badge>
                  </Td>
                  <Td className="hidden whitespace-nowrap sm:table-cell">{formatDateTime(u.createdAt, tz)}</Td>
                  <Td>
                    {u.email === actor.email ? (
                      <span className="text-xs text-slate-500">you</span>
                    ) : (
                      <div className="flex flex-wrap gap-1">
                        {ROLES.filter((r) => r !== u.role).map((r) => (
                          <ActionButton key={r} action={setUserRoleAction} fields={{ userId: u.id, role: r }} label={`Make ${r}`} />
                        ))}
                        <ActionButton
                          action={setUserDisabledAction}
                          fields={{ userId: u.id, disabled: String(!u.disabledAt) }}
                          label={u.disabledAt ? 'Enable' : 'Disable'}
                        />
                      </div>
                    )}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
          <div className="mt-4 border-t border-slate-100 pt-4">
            <h3 className="mb-2 text-sm font-semibold text-slate-800">Add a user</h3>
            <CreateUserForm action={createUserAction} />
          </div>
        </Card>

        <Card title="API tokens">
          <p className="mb-3 text-sm text-slate-500">
            Send as <code>Authorization: Bearer strata_…</code>. Stored hashed; shown once when created. The API is described at{' '}
            <a className="underline" href="/api/openapi.json">
              /api/openapi.json
            </a>
            .
          </p>
          {tokens.length === 0 ? (
            <p className="mb-4 text-sm text-slate-500">No API tokens yet.</p>
          ) : (
            <div className="mb-4">
              <Table label="API tokens">
                <thead>
                  <tr>
                    <Th>Name</Th>
                    <Th>Role</Th>
                    <Th className="hidden md:table-cell">Created</Th>
                    <Th>Last used</Th>
                    <Th>
                      <span className="sr-only">Actions</span>
                    </Th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {tokens.map((t) => (
                    <tr key={t.id} data-testid={`token-row-${t.name}`}>
                      <Td className="font-mono text-xs">{t.name}</Td>
                      <Td>
                        <Badge tone="blue">{t.role}</Badge>
                      </Td>
                      <Td className="hidden md:table-cell">
                        {formatDateTime(t.createdAt, tz)}
                        <div className="text-xs text-slate-500">by {t.createdBy}</div>
                      </Td>
                      <Td>{t.lastUsedAt ? formatDateTime(t.lastUsedAt, tz) : 'never'}</Td>
                      <Td>
                        {t.revokedAt ? (
                          <Badge tone="gray">revoked {formatDateTime(t.revokedAt, tz)}</Badge>
                        ) : (
                          <ActionButton action={revokeTokenAction} fields={{ tokenId: t.id }} label="Revoke" ariaLabel={`Revoke token ${t.name}`} />
                        )}
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </div>
          )}
          <h3 className="mb-2 text-sm font-semibold text-slate-800">Create a token</h3>
          <CreateTokenForm action={createTokenAction} />
        </Card>
      </div>
    </>
  );
}
