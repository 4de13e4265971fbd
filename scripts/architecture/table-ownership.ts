import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Static scan behind "no lib reads or writes another lib's tables" (issue 14). Each lib declares the
 * tables it owns in libs/<lib>/src/<lib>.tables.ts (one exported `const` list); this scan reads every
 * production source file of the lib (not specs, not libs/<lib>/test) and reports
 *  - a table named in SQL text (after FROM, JOIN, INTO, UPDATE, TABLE, REFERENCES or INDEX … ON),
 *  - a table named as a string to a query builder (`.from('x')`, `.into('x')`, `.update('x')`, joins),
 *  - a table named by an entity (`@Entity('x')` / `@Entity({ name: 'x' })`),
 *  - a use of an entity class (any mention of its name) mapped to a table,
 * when that table is declared by another lib. SQL keywords are matched in upper case, as the code
 * base writes them, so prose in messages ("from groups") is not taken for SQL.
 */

export const ROOT = path.resolve(__dirname, '..', '..');

export interface TableUse {
  lib: string;
  /** Path from the repository root. */
  file: string;
  line: number;
  table: string;
  owner: string;
  how: string;
}

export interface Ownership {
  /** table → owning lib */
  owners: Map<string, string>;
  /** lib → its declared tables */
  declared: Map<string, readonly string[]>;
  problems: string[];
}

/** Reads every libs/<lib>/src/<lib>.tables.ts; a table declared by two libs is a problem. */
export function readOwnership(root = ROOT): Ownership {
  const owners = new Map<string, string>();
  const declared = new Map<string, readonly string[]>();
  const problems: string[] = [];
  for (const lib of libsOf(root)) {
    const file = path.join(root, 'libs', lib, 'src', `${lib}.tables.ts`);
    if (!fs.existsSync(file)) continue;
    const tables = tablesDeclaredIn(fs.readFileSync(file, 'utf8'));
    declared.set(lib, tables);
    for (const table of tables) {
      const other = owners.get(table);
      if (other) problems.push(`table ${table} is declared by both ${other} and ${lib}`);
      owners.set(table, lib);
    }
  }
  return { owners, declared, problems };
}

/** The string literals of the file's exported const list (the file holds nothing else). */
export function tablesDeclaredIn(source: string): string[] {
  const list = /export const [A-Z_]+_TABLES\s*=\s*\[([\s\S]*?)\]\s*as const/.exec(source);
  if (!list) return [];
  const body = list[1]!.replace(/\/\/.*$/gm, '');
  return [...body.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]!);
}

export function libsOf(root = ROOT): string[] {
  return fs
    .readdirSync(path.join(root, 'libs'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'testing')
    .map((d) => d.name)
    .sort();
}

/** Production sources of a lib: libs/<lib>/src/**.ts without specs. */
export function sourcesOf(lib: string, root = ROOT): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !/\.(int-|e2e-)?spec\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
    }
  };
  walk(path.join(root, 'libs', lib, 'src'));
  return out.sort();
}

/** entity class name → table, from every `@Entity(...) export class X` of the libs. */
export function entityTables(root = ROOT): Map<string, string> {
  const map = new Map<string, string>();
  for (const lib of libsOf(root)) {
    for (const file of sourcesOf(lib, root)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/@Entity\(\s*(?:'([a-z0-9_]+)'|\{[^}]*?name:\s*'([a-z0-9_]+)'[^}]*\})[^)]*\)[\s\S]*?export\s+(?:abstract\s+)?class\s+([A-Za-z0-9_]+)/g)) {
        map.set(m[3]!, (m[1] ?? m[2])!);
      }
    }
  }
  return map;
}

const SQL_NAMES = /\b(FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|REFERENCES|INDEX(?:\s+IF\s+NOT\s+EXISTS)?\s+"?[a-z0-9_]+"?\s+ON)\s+(?:ONLY\s+)?"?(?:public"?\."?)?([a-z_][a-z0-9_]*)"?/g;
const BUILDER_NAMES = /\.(from|into|update|innerJoin|leftJoin|innerJoinAndSelect|leftJoinAndSelect|delete\(\)\.from)\(\s*['"`]([a-z_][a-z0-9_]*)['"`]/g;
const ENTITY_NAMES = /@Entity\(\s*(?:'([a-z0-9_]+)'|\{[^}]*?name:\s*'([a-z0-9_]+)')/g;

/** Every table of another lib that `text` (a file of `lib`) names. Comment lines are skipped. */
export function foreignTablesIn(lib: string, file: string, text: string, owners: Map<string, string>, entities: Map<string, string>): TableUse[] {
  const uses: TableUse[] = [];
  const lines = text.split('\n');
  const foreignEntities = [...entities].filter(([, table]) => owners.has(table) && owners.get(table) !== lib);
  lines.forEach((raw, index) => {
    const line = /^\s*(\/\/|\*|\/\*)/.test(raw) ? '' : raw;
    const found = (table: string, how: string) => {
      const owner = owners.get(table);
      if (owner && owner !== lib) uses.push({ lib, file, line: index + 1, table, owner, how });
    };
    for (const m of line.matchAll(SQL_NAMES)) found(m[2]!, `SQL ${m[1]!.split(/\s/)[0]}`);
    for (const m of line.matchAll(BUILDER_NAMES)) found(m[2]!, `query builder .${m[1]}()`);
    for (const m of line.matchAll(ENTITY_NAMES)) found((m[1] ?? m[2])!, '@Entity');
    for (const [name, table] of foreignEntities) {
      if (new RegExp(`\\b${name}\\b`).test(line)) found(table, `entity ${name}`);
    }
  });
  return uses;
}

/** Every foreign-table use in every lib's production code. */
export function scanLibs(root = ROOT): { uses: TableUse[]; ownership: Ownership } {
  const ownership = readOwnership(root);
  const entities = entityTables(root);
  const uses: TableUse[] = [];
  for (const lib of libsOf(root)) {
    for (const file of sourcesOf(lib, root)) {
      uses.push(...foreignTablesIn(lib, path.relative(root, file), fs.readFileSync(file, 'utf8'), ownership.owners, entities));
    }
  }
  return { uses, ownership };
}

/** Tables created by some migration (`CREATE TABLE x`): each must be declared by a lib. */
export function createdTables(root = ROOT): Array<{ table: string; file: string }> {
  const out: Array<{ table: string; file: string }> = [];
  for (const lib of libsOf(root)) {
    for (const file of sourcesOf(lib, root)) {
      if (!/\/migrations\//.test(file)) continue;
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?(?:public"?\."?)?([a-z_][a-z0-9_]*)/g)) {
        out.push({ table: m[1]!, file: path.relative(root, file) });
      }
    }
  }
  return out;
}

export function describeUse(use: TableUse): string {
  return `${use.file}:${use.line}: ${use.lib} names table ${use.table} (owned by ${use.owner}) — ${use.how}`;
}
