import { useEffect, useRef } from 'react';
import { EditorState, Extension, Transaction } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { Diagnostic, linter, lintGutter } from '@codemirror/lint';
import { syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { Finding } from '../api/types';

/** Findings as CodeMirror diagnostics, each at its line (and column when given). */
export function toDiagnostics(doc: { lines: number; line(n: number): { from: number; to: number } }, findings: Finding[]): Diagnostic[] {
  return findings.map((f) => {
    const n = Math.min(Math.max(f.line ?? 1, 1), doc.lines);
    const line = doc.line(n);
    const from = Math.min(line.from + Math.max((f.column ?? 1) - 1, 0), line.to);
    return { from, to: line.to > from ? line.to : from, severity: f.severity === 'Error' ? 'error' : f.severity === 'Warning' ? 'warning' : 'info', message: `${f.message} (${f.code})`, source: f.path };
  });
}

/**
 * Undo history and the default key bindings (Mod-z / Mod-y / Mod-Shift-z, line moves, selection,
 * comment toggling…). Tab is left to the browser, so the editor never traps keyboard focus.
 */
export function editingExtensions(): Extension[] {
  return [history(), keymap.of([...defaultKeymap, ...historyKeymap])];
}

/**
 * A CodeMirror 6 YAML editor that validates as you type: after a pause, `validate` (the API's
 * validation) answers findings, shown at their lines in the editor and handed to `onFindings`.
 */
export function YamlEditor({ value, onChange, validate, onFindings, label, readOnly }: { value: string; onChange?: (v: string) => void; validate?: (text: string) => Promise<Finding[]>; onFindings?: (f: Finding[] | null, error?: unknown) => void; label: string; readOnly?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, validate, onFindings });
  callbacks.current = { onChange, validate, onFindings };
  useEffect(() => {
    const extensions = [
      lineNumbers(),
      highlightActiveLine(),
      yaml(),
      syntaxHighlighting(defaultHighlightStyle),
      EditorView.contentAttributes.of({ 'aria-label': label }),
      EditorState.readOnly.of(!!readOnly),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) callbacks.current.onChange?.(u.state.doc.toString());
      }),
    ];
    if (!readOnly) {
      extensions.push(
        ...editingExtensions(),
        lintGutter(),
        linter(
          async (v) => {
            const check = callbacks.current.validate;
            if (!check) return [];
            try {
              const findings = await check(v.state.doc.toString());
              callbacks.current.onFindings?.(findings);
              return toDiagnostics(v.state.doc, findings);
            } catch (e) {
              callbacks.current.onFindings?.(null, e);
              return [];
            }
          },
          { delay: 400 },
        ),
      );
    }
    view.current = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) });
    return () => view.current?.destroy();
    // the editor is created once; later `value` changes from outside replace the text below
  }, [readOnly, label]);
  useEffect(() => {
    const v = view.current;
    // a text set from outside (a version loaded) is not an edit to undo
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value }, annotations: Transaction.addToHistory.of(false) });
  }, [value]);
  return <div className="editor" ref={host} />;
}
