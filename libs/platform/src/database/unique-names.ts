// Pure helpers of migrations that make names unique (kept out of migrations/: the TypeORM CLI
// takes every function exported there for a migration class).

/** `name-2`, `name-3`, ... (the first one not taken), cut so that it fits in 100 characters. */
export function suffixedName(name: string, taken: (candidate: string) => boolean): string {
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = name.slice(0, 100 - suffix.length) + suffix;
    if (!taken(candidate)) return candidate;
  }
}
