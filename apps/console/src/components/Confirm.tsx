import { ReactNode, useEffect, useRef, useState } from 'react';

/**
 * An inline confirmation (role alertdialog): names what will happen; `typed` asks for the literal word
 * to be typed first (destructive bulk actions).
 */
export function Confirm({ title, children, onConfirm, onCancel, typed, busy }: { title: string; children?: ReactNode; onConfirm: () => void; onCancel: () => void; typed?: string; busy?: boolean }) {
  const [word, setWord] = useState('');
  const first = useRef<HTMLButtonElement & HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div role="alertdialog" aria-modal="false" aria-labelledby="confirm-title" className="confirm panel" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h3 id="confirm-title">{title}</h3>
      {children}
      {typed ? (
        <label>
          Type <code>{typed}</code> to go on
          <input ref={first} value={word} onChange={(e) => setWord(e.target.value)} />
        </label>
      ) : null}
      <div className="row">
        <button type="button" className="primary" ref={typed ? undefined : first} disabled={busy || (typed !== undefined && word !== typed)} onClick={onConfirm}>
          Confirm
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
