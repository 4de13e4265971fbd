import { DiffView } from './DiffView';

const show = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v, null, 2));

/** Before/after JSON snapshots side by side (audit events, approvals). */
export function JsonDiff({ before, after, label }: { before: unknown; after: unknown; label: string }) {
  return <DiffView label={label} left={show(before)} right={show(after)} leftTitle="Before" rightTitle="After" />;
}
