import { FormEvent, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { del, post } from '../api/client';
import { useAuth } from '../auth/auth';
import { Guarded } from '../components/Guarded';
import { ListTable } from '../components/ListTable';
import { ProblemView } from '../components/ProblemView';
import { RowAction } from '../components/RowAction';

const RULES = '/api/lint-rules';

/** The tenant's lint rules (everyone reads them; Admins create, enable, disable and delete, each approved by another Admin). */
export function LintRulesPage() {
  const qc = useQueryClient();
  const { can } = useAuth();
  const [f, setF] = useState({ name: '', description: '', expression: '', severity: 'Warning' });
  const create = useMutation({
    mutationFn: () => post(RULES, { name: f.name.trim(), description: f.description, expression: f.expression, severity: f.severity }),
    onSuccess: () => {
      setF({ name: '', description: '', expression: '', severity: 'Warning' });
      void qc.invalidateQueries({ queryKey: ['list', RULES] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <>
      <h1>Lint rules</h1>
      <p className="muted">A configuration that does not match a rule gets a finding of its severity; an Error blocks publishing. Changes wait for another Admin's approval.</p>
      <ListTable
        title="Rules"
        url={RULES}
        empty="No lint rule."
        columns={[
          ['name', 'Name'],
          ['severity', 'Severity'],
          ['status', 'Status'],
          ['expression', 'Expression'],
          ['pendingChange', 'Pending change'],
        ]}
        actions={(row) => {
          const id = String(row.id);
          return (
            <>
              {row.status === 'Active' ? (
                <RowAction label="Disable" role="Admin" hide run={() => post(`${RULES}/${id}/disable`)} invalidate={[RULES]} />
              ) : (
                <RowAction label="Enable" role="Admin" hide run={() => post(`${RULES}/${id}/enable`)} invalidate={[RULES]} />
              )}
              <RowAction label="Delete" role="Admin" hide confirm={`Delete lint rule ${String(row.name)}? (after another Admin approves)`} run={() => del(`${RULES}/${id}`)} invalidate={[RULES]} />
            </>
          );
        }}
      />
      {can('Admin') ? (
        <form className="panel" onSubmit={submit} aria-labelledby="new-rule">
          <h2 id="new-rule">New lint rule</h2>
          <div className="row">
            <label>
              Name
              <input value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} required />
            </label>
            <label>
              Severity
              <select value={f.severity} onChange={(e) => setF({ ...f, severity: e.target.value })}>
                <option>Error</option>
                <option>Warning</option>
                <option>Info</option>
              </select>
            </label>
          </div>
          <label>
            Expression (over config.*)
            <textarea value={f.expression} onChange={(e) => setF({ ...f, expression: e.target.value })} rows={2} spellCheck={false} required placeholder={'config.exporters.any(e, e.type == "otlp")'} />
          </label>
          <label>
            Message
            <input value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
          </label>
          <Guarded role="Admin" type="submit" className="primary" disabled={!f.name.trim() || !f.expression.trim() || create.isPending}>
            Create rule
          </Guarded>
          <ProblemView error={create.error} />
        </form>
      ) : null}
    </>
  );
}
