/**
 * A reader of Prometheus text exposition, enough for the contract: each metric family's `# TYPE` and
 * the label sets of its samples (histogram samples `_bucket`, `_sum`, `_count` belong to their family;
 * `le` is the bucket's, not a label of the metric).
 */
export interface Family {
  type: string;
  /** Label name sets seen on the family's samples, each sorted and joined with ','. */
  labelSets: Set<string>;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: 'untyped', labelSets: new Set(), samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typed) {
      family(typed[1]!).type = typed[2]!;
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) continue;
    let name = sample[1]!;
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    if (base !== name && families.get(base)?.type === 'histogram') name = base;
    const f = family(name);
    if (f.type === 'histogram') delete labels.le;
    f.labelSets.add(Object.keys(labels).sort().join(','));
    f.samples.push({ labels, value: Number(sample[3]) });
  }
  return families;
}

/** The metric families of several scrapes, merged (the type of the first one that has it). */
export function mergeExpositions(list: Array<Map<string, Family>>): Map<string, Family> {
  const out = new Map<string, Family>();
  for (const families of list) {
    for (const [name, f] of families) {
      const into = out.get(name);
      if (!into) out.set(name, { type: f.type, labelSets: new Set(f.labelSets), samples: [...f.samples] });
      else {
        for (const s of f.labelSets) into.labelSets.add(s);
        into.samples.push(...f.samples);
        if (into.type !== f.type) into.type = `${into.type}|${f.type}`;
      }
    }
  }
  return out;
}
