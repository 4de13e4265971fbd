import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { ApiError } from '../api/problem';
import { renderAs } from '../test/render';
import { ErrorBoundary } from './ErrorBoundary';
import { Guarded } from './Guarded';
import { ProblemView } from './ProblemView';
import { DiffView } from './DiffView';
import { toDiagnostics } from './YamlEditor';
import { Text } from '@codemirror/state';

describe('ProblemView', () => {
  it('shows the problem title, detail and code', () => {
    render(<ProblemView error={new ApiError({ title: 'Conflict', status: 409, detail: 'v2 is assigned to 3 groups', code: 'VERSION_IN_USE' })} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Conflict');
    expect(alert.textContent).toContain('v2 is assigned to 3 groups');
    expect(alert.textContent).toContain('VERSION_IN_USE');
    expect(alert.textContent).toContain('HTTP 409');
  });
});

describe('ErrorBoundary', () => {
  it('shows what broke instead of a white screen', () => {
    const Broken = () => {
      throw new Error('cannot read the rollout');
    };
    const quiet = console.error;
    console.error = () => undefined;
    try {
      render(
        <ErrorBoundary>
          <Broken />
        </ErrorBoundary>,
      );
    } finally {
      console.error = quiet;
    }
    expect(screen.getByRole('heading', { name: 'This page failed' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toContain('cannot read the rollout');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});

describe('Guarded', () => {
  it('is a live button for a role that has it', () => {
    renderAs('Operator', <Guarded role="Operator">Publish</Guarded>);
    const b = screen.getByRole('button', { name: 'Publish' }) as HTMLButtonElement;
    expect(b.disabled).toBe(false);
  });

  it('is disabled with the reason for a lesser role, or hidden when asked', () => {
    renderAs(
      'Viewer',
      <>
        <Guarded role="Operator">Publish</Guarded>
        <Guarded role="Admin" hide>
          Create token
        </Guarded>
      </>,
    );
    const b = screen.getByRole('button', { name: /Publish/ }) as HTMLButtonElement;
    expect(b.disabled).toBe(true);
    expect(b.title).toBe('Needs the Operator role');
    expect(b.textContent).toContain('Needs the Operator role');
    expect(screen.queryByRole('button', { name: /Create token/ })).toBeNull();
  });
});

describe('DiffView', () => {
  it('highlights the drifted lines and counts them', () => {
    const { container } = render(<DiffView label="drift" left={'a: 1\nb: 2\n'} right={'a: 1\nb: 3\nc: 4\n'} leftTitle="Assigned" rightTitle="Effective" />);
    expect(container.querySelectorAll('[data-diff="changed"]').length).toBe(1);
    expect(container.querySelectorAll('[data-diff="added"]').length).toBe(1);
    expect(screen.getByText('2 lines differ')).toBeTruthy();
    expect(container.querySelector('td.ins')?.textContent).toBe('b: 3');
  });
});

describe('toDiagnostics', () => {
  it('puts each finding at its line and column, errors as errors', () => {
    const doc = Text.of(['receivers:', '  otlp: {}', 'service:', '  pipelines: {}']);
    const [d] = toDiagnostics(doc, [{ severity: 'Error', code: 'UNDEFINED_COMPONENT', message: 'exporter debug is not defined', path: 'service', line: 3, column: 2 }]);
    expect(d).toMatchObject({ from: doc.line(3).from + 1, to: doc.line(3).to, severity: 'error' });
    expect(d!.message).toContain('UNDEFINED_COMPONENT');
    const [clamped] = toDiagnostics(doc, [{ severity: 'Warning', code: 'X', message: 'm', path: '', line: 99 }]);
    expect(clamped).toMatchObject({ from: doc.line(4).from, severity: 'warning' });
  });
});
