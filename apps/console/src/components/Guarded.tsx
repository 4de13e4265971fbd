import { ButtonHTMLAttributes, ReactNode } from 'react';
import { Role, useAuth } from '../auth/auth';

/**
 * A button that needs a role. `hide` leaves it out for lesser roles (Admin-only actions); otherwise it is
 * disabled, and its title and a screen-reader text say which role it needs.
 */
export function Guarded({ role, hide, children, ...rest }: { role: Role; hide?: boolean; children: ReactNode } & ButtonHTMLAttributes<HTMLButtonElement>) {
  const { can } = useAuth();
  if (can(role)) return <button type="button" {...rest}>{children}</button>;
  if (hide) return null;
  const reason = `Needs the ${role} role`;
  return (
    <button type="button" {...rest} onClick={undefined} disabled aria-disabled="true" title={reason} data-reason={reason}>
      {children}
      <span className="sr-only"> ({reason})</span>
    </button>
  );
}
