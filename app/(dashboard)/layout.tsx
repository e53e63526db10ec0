import type { ReactNode } from 'react';
import { redirect } from 'next/navigation';
import { signOut } from '@/auth';
import { currentActor } from '@/lib/auth/session';
import { Shell } from '@/components/sidebar';
import { Badge } from '@/components/ui';

export const dynamic = 'force-dynamic';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const actor = await currentActor();
  if (!actor) redirect('/signin');
  const items = [
    { href: '/', label: 'Overview' },
    { href: '/tenants', label: 'Tenants' },
    { href: '/schedules', label: 'Schedules' },
    { href: '/cost', label: 'Storage & cost' },
    { href: '/policies', label: 'Retention policies' },
    { href: '/audit', label: 'Audit log' },
    ...(actor.role === 'admin' ? [{ href: '/users', label: 'Users & API tokens' }] : []),
  ];
  async function doSignOut() {
    'use server';
    await signOut({ redirectTo: '/signin' });
  }
  return (
    <Shell
      items={items}
      user={
        <div className="flex items-center justify-between gap-2 px-2">
          <span className="truncate" title={actor.name}>
            {actor.name}
          </span>
          <Badge tone="blue">{actor.role}</Badge>
        </div>
      }
      signOut={
        <form action={doSignOut} className="px-2">
          <button type="submit" className="text-xs font-medium text-slate-300 underline-offset-2 hover:text-white hover:underline">
            Sign out
          </button>
        </form>
      }
    >
      {children}
    </Shell>
  );
}
