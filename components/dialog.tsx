'use client';
// A modal dialog: backdrop click and Esc close it, focus starts on the first field and Tab stays
// inside. The caller renders it only while open and returns focus to its opener on close.
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { buttonClass, inputClass } from './ui';

export function Dialog({ title, onClose, testId, children }: { title: ReactNode; onClose: () => void; testId?: string; children: ReactNode }) {
  const titleId = useId();
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>('input, select, button')?.focus();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !dialog.current) return;
    const focusable = [...dialog.current.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
      (el) => !el.hasAttribute('disabled'),
    );
    if (focusable.length === 0) return;
    const first = focusable[0]!;
    const last = focusable[focusable.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-slate-900/50 p-0 sm:items-center sm:p-4" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={dialog}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
        className="max-h-[95vh] w-full max-w-lg overflow-y-auto rounded-t-xl bg-white p-5 shadow-xl sm:rounded-xl"
        data-testid={testId}
      >
        <h2 id={titleId} className="text-lg font-semibold break-words text-slate-900">
          {title}
        </h2>
        {children}
      </div>
    </div>
  );
}

/**
 * The end of a destructive dialog: "Type X to confirm", the server's error if any, Cancel and the
 * danger button, enabled only by the caller's `canSubmit` (the exact text typed, nothing pending).
 */
export function TypedConfirmation({
  id,
  expected,
  value,
  onChange,
  error,
  canSubmit,
  onSubmit,
  onCancel,
  submitLabel,
  submitTestId,
}: {
  id: string;
  expected: ReactNode;
  value: string;
  onChange: (value: string) => void;
  error: string | null;
  canSubmit: boolean;
  onSubmit: () => void;
  onCancel: () => void;
  submitLabel: string;
  submitTestId: string;
}) {
  return (
    <>
      <div className="mt-4">
        <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-700">
          Type <strong className="font-semibold break-all select-all">{expected}</strong> to confirm
        </label>
        <input
          id={id}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), onSubmit())}
          className={inputClass}
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      {error ? (
        <p role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
          {error}
        </p>
      ) : null}
      <div className="mt-5 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className={buttonClass.danger} disabled={!canSubmit} onClick={onSubmit} data-testid={submitTestId}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
