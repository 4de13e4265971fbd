import { Component, ErrorInfo, ReactNode } from 'react';
import { ProblemView } from './ProblemView';

interface State {
  error: unknown;
}

/** Catches a page's render errors: the page says what broke, the rest of the console keeps working. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  componentDidUpdate(prev: { resetKey?: string }): void {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  componentDidCatch(_error: unknown, _info: ErrorInfo): void {
    // shown in the page; nothing is logged (a message could carry what the user typed)
  }

  render(): ReactNode {
    if (this.state.error) {
      return (
        <section className="panel" aria-labelledby="page-error">
          <h2 id="page-error">This page failed</h2>
          <ProblemView error={this.state.error} title="This page failed" />
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </section>
      );
    }
    return this.props.children;
  }
}
