import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files under `root` whose path (relative, with /) matches `pattern`; node_modules and dist skipped. */
export function findFiles(root: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (pattern.test(relative(root, full).split('\\').join('/'))) out.push(full);
    }
  };
  walk(root);
  return out.sort();
}
