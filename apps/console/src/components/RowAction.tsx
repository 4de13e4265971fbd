import { ReactNode, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Role } from '../auth/auth';
import { Confirm } from './Confirm';
import { Guarded } from './Guarded';
import { ProblemView } from './ProblemView';

/**
 * One action on one row (revoke, pause, ping…): a role-guarded button, a confirmation when `confirm`
 * names what will happen (`typed` asks for the word first), the problem when the API refuses, and
 * `done` to show what it answered. The lists of `invalidate` are refetched afterwards.
 */
export function RowAction<T>({
  label,
  role,
  confirm,
  typed,
  run,
  invalidate = [],
  done,
  hide,
}: {
  label: string;
  role: Role;
  confirm?: string;
  typed?: string;
  run: () => Promise<T>;
  invalidate?: string[];
  done?: (result: T) => ReactNode;
  hide?: boolean;
}) {
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  const action = useMutation({
    mutationFn: run,
    onSuccess: () => setAsking(false),
    onSettled: () => invalidate.forEach((url) => void qc.invalidateQueries({ queryKey: ['list', url] })),
  });
  return (
    <span className="row-action">
      <Guarded role={role} hide={hide} disabled={action.isPending} onClick={() => (action.reset(), confirm ? setAsking(true) : action.mutate())}>
        {label}
      </Guarded>
      {asking && confirm ? (
        <Confirm title={confirm} typed={typed} busy={action.isPending} onConfirm={() => action.mutate()} onCancel={() => setAsking(false)}>
          <ProblemView error={action.error} />
        </Confirm>
      ) : (
        <ProblemView error={action.error} />
      )}
      {action.isSuccess && done ? <span role="status">{done(action.data as T)}</span> : null}
    </span>
  );
}
