/**
 * The functions of the language, by name. `pathArg` functions receive their first argument as a
 * path (they test or default a path that may be missing, which is an error everywhere else).
 */
export interface FunctionSpec {
  minArgs: number;
  maxArgs: number;
  pathArg?: boolean;
  /** One line for the documentation and error messages. */
  summary: string;
}

export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  len: { minArgs: 1, maxArgs: 1, summary: 'len(x): characters of a string, items of a list, keys of a map' },
  lower: { minArgs: 1, maxArgs: 1, summary: 'lower(s): s in lower case' },
  upper: { minArgs: 1, maxArgs: 1, summary: 'upper(s): s in upper case' },
  trim: { minArgs: 1, maxArgs: 1, summary: 'trim(s): s without leading and trailing white space' },
  'starts-with': { minArgs: 2, maxArgs: 2, summary: 'starts-with(s, prefix)' },
  'ends-with': { minArgs: 2, maxArgs: 2, summary: 'ends-with(s, suffix)' },
  contains: { minArgs: 2, maxArgs: 2, summary: 'contains(s, part) for strings; contains(list, value) for lists' },
  regex: { minArgs: 2, maxArgs: 2, summary: 'regex(s, pattern): the whole of s matches the pattern' },
  exists: { minArgs: 1, maxArgs: 1, pathArg: true, summary: 'exists(path): the path is present (even if null)' },
  default: { minArgs: 2, maxArgs: 2, pathArg: true, summary: 'default(path, value): the path\'s value, or value when it is missing or null' },
};
