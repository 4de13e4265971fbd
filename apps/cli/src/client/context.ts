import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliError, ExitCode, usageError } from './exit-codes';

/**
 * The context file (`$XDG_CONFIG_HOME/ampora/config.yaml`, else `~/.config/ampora/config.yaml`):
 * named contexts with the server URL, the tenant and where the token is (an environment variable or
 * a file; never the token itself). AMPORA_URL and AMPORA_TOKEN override the current context.
 */
export interface Context {
  name: string;
  url: string;
  tenant?: string;
  tokenEnv?: string;
  tokenFile?: string;
}

export interface ContextFile {
  currentContext?: string;
  contexts: Context[];
}

export type Env = Record<string, string | undefined>;

export function configDir(env: Env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || env.USERPROFILE || '.', '.config');
  return join(base, 'ampora');
}

export const configPath = (env: Env) => join(configDir(env), 'config.yaml');

export function loadContexts(env: Env): ContextFile {
  const path = configPath(env);
  if (!existsSync(path)) return { contexts: [] };
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`${path} is not valid YAML: ${(e as Error).message}`);
  }
  const file = (raw ?? {}) as Partial<ContextFile>;
  const contexts = Array.isArray(file.contexts) ? file.contexts.filter((c): c is Context => typeof c?.name === 'string' && typeof c?.url === 'string') : [];
  return { currentContext: typeof file.currentContext === 'string' ? file.currentContext : undefined, contexts };
}

export function saveContexts(env: Env, file: ContextFile): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, stringify(file), { mode: 0o600 });
  return path;
}

/** Stores a token given on stdin in a file of its own (0600) that the context points at. */
export function saveTokenFile(env: Env, contextName: string, token: string): string {
  const path = join(configDir(env), 'tokens', contextName.replace(/[^A-Za-z0-9_.-]/g, '_'));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, token.trim() + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function upsertContext(file: ContextFile, ctx: Context, makeCurrent: boolean): ContextFile {
  const contexts = [...file.contexts.filter((c) => c.name !== ctx.name), ctx].sort((a, b) => a.name.localeCompare(b.name));
  return { currentContext: makeCurrent ? ctx.name : (file.currentContext ?? ctx.name), contexts };
}

export interface Target {
  url: string;
  token: string | undefined;
  tenant: string | undefined;
  context: string | undefined;
}

/** Where the commands go: the named (or current) context, with AMPORA_URL and AMPORA_TOKEN winning. */
export function resolveTarget(env: Env, contextName?: string, opts: { overrides: boolean } = { overrides: true }): Target {
  const file = loadContexts(env);
  const name = contextName ?? file.currentContext;
  const ctx = name ? file.contexts.find((c) => c.name === name) : undefined;
  if (contextName && !ctx) throw usageError(`no context named ${JSON.stringify(contextName)} in ${configPath(env)}`);
  const url = (opts.overrides && env.AMPORA_URL) || ctx?.url;
  if (!url) throw new CliError('no server to talk to: set AMPORA_URL (and AMPORA_TOKEN), or run `ampora login <url>`', ExitCode.Usage);
  return { url: url.replace(/\/+$/, ''), token: (opts.overrides && env.AMPORA_TOKEN) || (ctx ? readToken(env, ctx) : undefined), tenant: ctx?.tenant, context: ctx?.name };
}

function readToken(env: Env, ctx: Context): string | undefined {
  if (ctx.tokenEnv) return env[ctx.tokenEnv] || undefined;
  if (ctx.tokenFile) {
    const path = resolve(ctx.tokenFile.replace(/^~(?=\/)/, env.HOME ?? '~'));
    try {
      return readFileSync(path, 'utf8').trim() || undefined;
    } catch {
      throw new CliError(`context ${ctx.name}: cannot read the token file ${path}`);
    }
  }
  return undefined;
}
