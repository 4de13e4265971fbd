import { ApiError } from '../api/problem';

/** An API error as the operator should see it: the problem's title, detail and stable code. */
export function ProblemView({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const p = error instanceof ApiError ? error.problem : { title: title ?? 'Something went wrong', detail: error instanceof Error ? error.message : String(error), status: 0 };
  return (
    <div role="alert" className="problem">
      <strong className="problem-title">{p.title}</strong>
      {p.code ? <code className="problem-code">{p.code}</code> : null}
      {p.status ? <span className="problem-status">HTTP {p.status}</span> : null}
      {p.detail ? <p className="problem-detail">{p.detail}</p> : null}
      {Array.isArray(p.errors) && p.errors.length ? (
        <ul>
          {p.errors.slice(0, 10).map((e, i) => (
            <li key={i}>
              {e.path ? <code>{e.path}</code> : null} {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
