'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState, type ReactNode } from 'react';

interface NavItem {
  href: string;
  label: string;
}

export function Shell({ items, user, signOut, children }: { items: NavItem[]; user: ReactNode; signOut: ReactNode; children: ReactNode }) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  const active = (href: string) => (href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`));
  const nav = (
    <nav aria-label="Main" className="flex flex-col gap-0.5">
      {items.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          onClick={() => setOpen(false)}
          aria-current={active(item.href) ? 'page' : undefined}
          className={`rounded-md px-3 py-2 text-sm font-medium ${active(item.href) ? 'bg-slate-800 text-white' : 'text-slate-300 hover:bg-slate-800/60 hover:text-white'}`}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
  return (
    <div className="min-h-screen lg:flex">
      <aside className="hidden w-60 shrink-0 flex-col bg-slate-900 px-3 py-4 lg:flex">
        <Brand />
        <div className="mt-6 flex-1">{nav}</div>
        <div className="border-t border-slate-800 pt-3 text-xs text-slate-400">
          {user}
          <div className="mt-2">{signOut}</div>
        </div>
      </aside>
      <header className="flex items-center justify-between bg-slate-900 px-4 py-3 lg:hidden">
        <Brand />
        <button
          type="button"
          aria-expanded={open}
          aria-controls="mobile-nav"
          onClick={() => setOpen((o) => !o)}
          className="rounded-md border border-slate-700 px-2 py-1 text-sm text-slate-200"
        >
          Menu
        </button>
      </header>
      {open ? (
        <div id="mobile-nav" className="bg-slate-900 px-3 pb-4 lg:hidden">
          {nav}
          <div className="mt-3 border-t border-slate-800 pt-3 text-xs text-slate-400">
            {user}
            <div className="mt-2">{signOut}</div>
          </div>
        </div>
      ) : null}
      <main className="min-w-0 flex-1 px-4 py-6 sm:px-6 lg:px-8">{children}</main>
    </div>
  );
}

function Brand() {
  return (
    <Link href="/" className="flex items-center gap-2 px-2 text-white">
      <span className="flex h-7 w-7 items-center justify-center rounded-md bg-sky-500 text-sm font-bold">S</span>
      <span className="text-base font-semibold tracking-tight">Strata</span>
    </Link>
  );
}
