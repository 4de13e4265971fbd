import type { ApiClient } from '../api';
import { OutputFormat, render, renderData, renderTable } from '../domain/output';
import { selectorFilter } from '../domain/selectors';
import { findResource, requireByName } from '../resources';
import { usageError } from '../exit-codes';

export interface GetOptions {
  output: OutputFormat;
  selector?: string;
  fieldSelector?: string;
  watch?: boolean;
}

type Out = (text: string) => void;

/** `ampora get <resource> [name]`: a table, or the API's objects as JSON or YAML; --watch follows /api/live. */
export async function get(api: ApiClient, word: string, name: string | undefined, parent: string | undefined, o: GetOptions, out: Out, signal?: AbortSignal): Promise<void> {
  const resource = findResource(word);
  let parentId: string | undefined;
  if (resource.needsParent) {
    const p = parent ?? name;
    if (!p) throw usageError(`get ${resource.name} needs the ${resource.needsParent}: ampora get ${resource.name} <${resource.needsParent}>`);
    parentId = (await requireByName(api, '/api/configurations', p, 'configuration')).id;
    if (parent === undefined) name = undefined;
  }
  const path = resource.path(parentId);
  const filter = selectorFilter(o.selector, o.fieldSelector);
  const load = async () => {
    if (name && !resource.needsParent) return [await requireByName(api, path, name, resource.name.replace(/s$/, ''))];
    return (await api.listAll(path)).filter(filter);
  };
  const items = await load();
  if (name && !resource.needsParent && (o.output === 'json' || o.output === 'yaml') && !o.watch) {
    out(renderData(items[0], o.output));
    return;
  }
  out(render(items, resource.columns, o.output, Date.now()));
  if (!o.watch) return;
  if (resource.live.length === 0) throw usageError(`get ${resource.name} --watch: the live stream carries no events of ${resource.name}`);
  // kubectl-style: after the first listing, each change prints the rows that changed
  const seen = new Map(items.map((i) => [String(i.id ?? i.number), JSON.stringify(i)]));
  let pending: Promise<void> = Promise.resolve();
  const refresh = () => {
    pending = pending.then(async () => {
      const now = await load();
      const changed = now.filter((i) => seen.get(String(i.id ?? i.number)) !== JSON.stringify(i));
      for (const i of changed) seen.set(String(i.id ?? i.number), JSON.stringify(i));
      if (changed.length === 0) return;
      if (o.output === 'json' || o.output === 'yaml') for (const i of changed) out(renderData(i, o.output));
      else out(renderTable(changed, resource.columns, o.output === 'wide', Date.now()).split('\n').slice(1).join('\n'));
    });
  };
  await api.live(resource.live, refresh, signal ?? new AbortController().signal);
  await pending;
}
