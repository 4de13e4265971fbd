export function StatusBadge({ value }: { value: string | boolean | null | undefined }) {
  const text = value === true ? 'healthy' : value === false ? 'unhealthy' : value === null || value === undefined ? 'unknown' : value;
  return <span className={`badge badge-${text.toLowerCase().replace(/[^a-z]+/g, '-')}`}>{text}</span>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}
