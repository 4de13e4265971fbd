import { describe, expect, it } from 'vitest';
import { render, waitFor } from '@testing-library/react';
import { EditorState, Transaction } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { redo, undo } from '@codemirror/commands';
import { editingExtensions, YamlEditor } from './YamlEditor';

describe('the editor\'s history and keys', () => {
  it('undoes and redoes edits, but not a text set from outside', () => {
    let state = EditorState.create({ doc: 'receivers: {}\n', extensions: editingExtensions() });
    const run = (command: typeof undo) => command({ state, dispatch: (tr: Transaction) => (state = tr.state) });
    state = state.update({ changes: { from: 0, to: state.doc.length, insert: 'loaded: 1\n' }, annotations: Transaction.addToHistory.of(false) }).state;
    state = state.update({ changes: { from: state.doc.length, insert: 'edited: 2\n' }, userEvent: 'input' }).state;
    expect(run(undo)).toBe(true);
    expect(state.doc.toString()).toBe('loaded: 1\n');
    // the loaded text is not undone
    expect(run(undo)).toBe(false);
    expect(state.doc.toString()).toBe('loaded: 1\n');
    expect(run(redo)).toBe(true);
    expect(state.doc.toString()).toBe('loaded: 1\nedited: 2\n');
  });

  it('binds undo and redo to the usual keys and leaves Tab to the browser', () => {
    const state = EditorState.create({ extensions: editingExtensions() });
    const keys = state.facet(keymap).flat();
    expect(keys.find((k) => k.key === 'Mod-z')?.run).toBe(undo);
    expect(keys.some((k) => k.key === 'Mod-y' || k.key === 'Mod-Shift-z')).toBe(true);
    expect(keys.some((k) => k.key === 'Tab')).toBe(false);
  });

  it('has the history in the mounted editor, which an edit then undo restores', async () => {
    const { container } = render(<YamlEditor value={'a: 1\n'} label="YAML" />);
    await waitFor(() => expect(container.querySelector('.cm-content')).not.toBeNull());
    const view = EditorView.findFromDOM(container.querySelector('.cm-editor') as HTMLElement)!;
    view.dispatch({ changes: { from: 0, insert: 'b: 2\n' }, userEvent: 'input' });
    expect(view.state.doc.toString()).toBe('b: 2\na: 1\n');
    expect(undo(view)).toBe(true);
    expect(view.state.doc.toString()).toBe('a: 1\n');
  });
});
