/** Parsed command line: positional words and `--name value` options. */
export interface ParsedArgs {
  words: string[];
  options: Record<string, string>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) options[arg.slice(2, eq)] = arg.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) options[arg.slice(2)] = 'true';
        else {
          options[arg.slice(2)] = next;
          i++;
        }
      }
    } else words.push(arg);
  }
  return { words, options };
}

export class UsageError extends Error {}
