import { useMemo } from 'react';
import { sideBySide } from '../lib/diff';

/** Two texts side by side, the differing lines highlighted (drift, version diffs). */
export function DiffView({ left, right, leftTitle, rightTitle, label }: { left: string; right: string; leftTitle: string; rightTitle: string; label: string }) {
  const rows = useMemo(() => sideBySide(left, right), [left, right]);
  const changed = rows.filter((r) => r.kind !== 'same').length;
  return (
    // focusable: a long diff scrolls, and a keyboard user must be able to scroll it
    <figure className="diff" aria-label={label} tabIndex={0}>
      <figcaption>
        {changed === 0 ? 'No differences' : `${changed} line${changed === 1 ? '' : 's'} differ`}
      </figcaption>
      <table className="diff-table">
        <colgroup>
          <col className="ln-col" />
          <col />
          <col className="ln-col" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th scope="col" colSpan={2}>{leftTitle}</th>
            <th scope="col" colSpan={2}>{rightTitle}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, k) => (
            <tr key={k} className={`diff-${r.kind}`} data-diff={r.kind}>
              <td className="ln">{r.left?.n ?? ''}</td>
              <td className={r.kind === 'removed' || r.kind === 'changed' ? 'del' : ''}>
                <pre>{r.left?.text ?? ''}</pre>
              </td>
              <td className="ln">{r.right?.n ?? ''}</td>
              <td className={r.kind === 'added' || r.kind === 'changed' ? 'ins' : ''}>
                <pre>{r.right?.text ?? ''}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
