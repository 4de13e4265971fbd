import { Command, CommanderError, Option } from 'commander';
import { ApiClient } from './api';
import { rolloutAction, ROLLOUT_ACTIONS, rolloutStatus } from './commands/rollout';
import { applyDocuments, DryRun, readDocuments } from './commands/apply';
import { describe } from './commands/describe';
import { get } from './commands/get';
import { bashScript, CommandNode, completeWords, zshScript } from './domain/completion';
import { OUTPUT_FORMATS, parseOutputFormat } from './domain/output';
import { SelectorError } from './domain/selectors';
import { configPath, Env, loadContexts, resolveTarget, saveContexts, saveTokenFile, upsertContext } from './context';
import { CliError, ExitCode, usageError } from './exit-codes';
import { RESOURCE_NAMES } from './resources';

export interface Io {
  env: Env;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Reads stdin (login --token-stdin). */
  stdin: () => Promise<string>;
  isTty: boolean;
  /** Runs an admin command (loaded lazily: it needs the server's code and the database). */
  admin: (argv: string[]) => Promise<number>;
}

const example = (...lines: string[]) => `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** The `ampora` command tree. Each action sets `state.code`. */
export function buildProgram(io: Io, state: { code: number }, argv: string[]): Command {
  const program = new Command('ampora')
    .description('Operate an Ampora control plane through its REST API (AMPORA_URL and AMPORA_TOKEN override the context)')
    .option('--context <name>', 'use this context of the context file instead of the current one')
    .showHelpAfterError('(add --help for the usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText('after', example('ampora login https://ampora.example.com --token-env AMPORA_PAT', 'ampora get agents -l env=prod -o wide', 'ampora apply -f fleet/ --publish', 'ampora rollout status canary-42 --watch'));
  const api = (cmd: Command) => new ApiClient(resolveTarget(io.env, cmd.optsWithGlobals().context));

  program
    .command('login')
    .description('save a context (server URL, tenant, where the token is) and make it current; checks the token against the server')
    .argument('<url>', 'the server, e.g. https://ampora.example.com')
    .option('--name <context>', 'context name', 'default')
    .option('--tenant <name>', 'the tenant the token belongs to (shown in context list)')
    .option('--token-env <var>', 'read the token from this environment variable at each command')
    .option('--token-file <path>', 'read the token from this file at each command')
    .option('--token-stdin', 'read the token from stdin now and keep it in a file of its own (0600) under the config directory')
    .addHelpText('after', example('ampora login https://ampora.example.com --tenant acme --token-env AMPORA_PAT', 'echo "$PAT" | ampora login https://ampora.example.com --name prod --token-stdin'))
    .action(async (url: string, opts: { name: string; tenant?: string; tokenEnv?: string; tokenFile?: string; tokenStdin?: boolean }) => {
      if ([opts.tokenEnv, opts.tokenFile, opts.tokenStdin].filter(Boolean).length > 1) throw usageError('give one of --token-env, --token-file, --token-stdin');
      if (!/^https?:\/\//.test(url)) throw usageError(`${url} is not an http(s) URL`);
      const tokenFile = opts.tokenStdin ? saveTokenFile(io.env, opts.name, await io.stdin()) : opts.tokenFile;
      const ctx = { name: opts.name, url: url.replace(/\/+$/, ''), ...(opts.tenant ? { tenant: opts.tenant } : {}), ...(opts.tokenEnv ? { tokenEnv: opts.tokenEnv } : {}), ...(tokenFile ? { tokenFile } : {}) };
      const path = saveContexts(io.env, upsertContext(loadContexts(io.env), ctx, true));
      // the context just saved, not AMPORA_URL/AMPORA_TOKEN: what later commands will use without them
      const client = new ApiClient(resolveTarget(io.env, opts.name, { overrides: false }));
      const check = await client.send('GET', '/api/agents?limit=1');
      if (check.status >= 400) throw client.error('GET', '/api/agents', check);
      io.out(`Context ${opts.name} saved in ${path} and made current; the server accepted the token.\n`);
    });

  const context = program
    .command('context')
    .description('list, show and switch the contexts of the context file')
    .addHelpText('after', example('ampora context list', 'ampora context use prod'));
  context
    .command('use')
    .argument('<name>')
    .description('make a context the current one')
    .addHelpText('after', example('ampora context use prod'))
    .action((name: string) => {
      const file = loadContexts(io.env);
      if (!file.contexts.some((c) => c.name === name)) throw usageError(`no context named ${JSON.stringify(name)} in ${configPath(io.env)}`);
      saveContexts(io.env, { ...file, currentContext: name });
      io.out(`Switched to context ${name}.\n`);
    });
  context
    .command('list')
    .description('the contexts (* marks the current one)')
    .addHelpText('after', example('ampora context list'))
    .action(() => {
      const file = loadContexts(io.env);
      for (const c of file.contexts) io.out(`${c.name === file.currentContext ? '*' : ' '} ${c.name}\t${c.url}\t${c.tenant ?? ''}\t${c.tokenEnv ? `$${c.tokenEnv}` : (c.tokenFile ?? '')}\n`);
    });
  context
    .command('current')
    .description('where commands go now (AMPORA_URL and AMPORA_TOKEN win over the context)')
    .addHelpText('after', example('ampora context current'))
    .action((_o, cmd: Command) => {
      const t = resolveTarget(io.env, cmd.optsWithGlobals().context);
      io.out(`${t.context ?? '(environment)'}\t${t.url}\t${t.tenant ?? ''}\ttoken ${t.token ? 'set' : 'missing'}\n`);
    });

  program
    .command('get')
    .description(`list resources: ${RESOURCE_NAMES.join(', ')}`)
    .argument('<resource>', 'what to list (singular, plural or short names: agent, ag, ...)')
    .argument('[name]', 'one item by name or id (for versions: the configuration)')
    .argument('[parent]', 'versions: the configuration')
    .option('-l, --selector <labels>', 'label selector: env=prod,tier!=web,canary,!legacy')
    .option('--field-selector <fields>', 'field selector on the API objects: status=connected,assignment.version=3')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
    .option('-w, --watch', 'after listing, print the rows that change (GET /api/live)')
    .addHelpText('after', example('ampora get agents -l env=prod --field-selector status=connected', 'ampora get versions edge-collectors -o json', 'ampora get rollouts --watch'))
    .action(async (resource: string, name: string | undefined, parent: string | undefined, opts: { selector?: string; fieldSelector?: string; output: string; watch?: boolean }, cmd: Command) => {
      const output = parseOutputFormat(opts.output);
      if (!output) throw usageError(`-o ${opts.output}: use ${OUTPUT_FORMATS.join(', ')}`);
      await get(api(cmd), resource, name, parent, { ...opts, output }, io.out);
    });

  program
    .command('describe')
    .description('one agent in full (health tree, assigned vs effective config, certificate, history), or one rollout')
    .argument('<kind>', 'agent or rollout')
    .argument('<id>', 'agent id, or rollout name or id')
    .addHelpText('after', example('ampora describe agent 0b6e0c9e-3f7a-4d7e-9d55-2b1f4c1d2a10'))
    .action(async (kind: string, id: string, _o, cmd: Command) => describe(api(cmd), kind, id, io.out));

  const applyLike = (name: 'apply' | 'diff') =>
    program
      .command(name)
      .requiredOption('-f, --filename <path...>', 'YAML files or directories of documents (Configuration, Group, Rollout, Policy, LintRule, GitSource)')
      .option('--publish', 'publish each new configuration version (and a Draft latest version)');
  applyLike('apply')
    .description('create or update what the documents describe; unchanged ones are left alone (exit 0 ok, 1 failed, 2 usage, 3 validation or policy denied)')
    .addOption(new Option('--dry-run <where>', 'client: plan only; server: also validate through the API, writing nothing').choices(['none', 'client', 'server']).default('none'))
    .addHelpText('after', example('ampora apply -f fleet/ --publish', 'ampora apply -f edge.yaml --dry-run=server'))
    .action(async (opts: { filename: string[]; publish?: boolean; dryRun: DryRun }, cmd: Command) => {
      state.code = await applyDocuments(api(cmd), readDocuments(opts.filename), { publish: !!opts.publish, dryRun: opts.dryRun, diff: false }, io.out, io.err);
    });
  applyLike('diff')
    .description('what apply would change, with the semantic diff of each configuration (the server computes it; nothing is written)')
    .option('--exit-code', 'exit 1 when there are differences (as git diff --exit-code)')
    .addHelpText('after', example('ampora diff -f fleet/'))
    .action(async (opts: { filename: string[]; publish?: boolean; exitCode?: boolean }, cmd: Command) => {
      const lines: string[] = [];
      state.code = await applyDocuments(api(cmd), readDocuments(opts.filename), { publish: !!opts.publish, dryRun: 'none', diff: true }, (t) => (lines.push(t), io.out(t)), io.err);
      if (state.code === ExitCode.Ok && opts.exitCode && lines.some((l) => /^[+~] /.test(l))) state.code = ExitCode.Failed;
    });

  const rollout = program
    .command('rollout')
    .description('drive a rollout: start, pause, resume, advance, abort, rollback; status [--watch]')
    .addHelpText('after', example('ampora rollout start canary-42', 'ampora rollout status canary-42 --watch || ampora rollout rollback canary-42'));
  const ACTION_HELP: Record<(typeof ROLLOUT_ACTIONS)[number], string> = {
    start: 'Pending → InProgress: the worker starts the first step',
    pause: 'InProgress → Paused: in-flight pushes complete, no new ones',
    resume: 'Paused → InProgress (after a gate pause its gates are waived for that step)',
    advance: 'start the next step now (skips the dwell or the wait for an operator)',
    abort: '→ Failed for good: pushed agents keep the new version',
    rollback: '→ RolledBack: the previous Published version goes back to every touched agent',
  };
  for (const action of ROLLOUT_ACTIONS) {
    rollout
      .command(action)
      .argument('<rollout>', 'name or id')
      .description(ACTION_HELP[action])
      .addHelpText('after', example(`ampora rollout ${action} canary-42`))
      .action(async (name: string, _o, cmd: Command) => rolloutAction(api(cmd), action, name, io.out));
  }
  rollout
    .command('status')
    .argument('<rollout>', 'name or id')
    .description('per-step progress bars and gate values; with --watch follows it to its end and exits with it: 0 Completed, 4 paused by a gate, 5 Failed (aborted), 6 RolledBack')
    .option('-w, --watch', 'follow the rollout live until it ends')
    .option('--interval <seconds>', 'read at least this often while watching', '2')
    .option('--timeout <seconds>', 'give up (exit 1) after this long; 0: never', '0')
    .addHelpText('after', example('ampora rollout status canary-42 --watch --timeout 1800'))
    .action(async (name: string, opts: { watch?: boolean; interval: string; timeout: string }, cmd: Command) => {
      const interval = Number(opts.interval);
      const timeout = Number(opts.timeout);
      if (!(interval > 0) || !(timeout >= 0)) throw usageError('--interval must be above 0 and --timeout at least 0');
      state.code = await rolloutStatus(api(cmd), name, { watch: !!opts.watch, interval, timeout, redraw: io.isTty }, io.out);
    });

  program
    .command('completion')
    .description('print the shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', example('source <(ampora completion bash)', 'ampora completion zsh > "${fpath[1]}/_ampora"'))
    .action((shell: string) => {
      if (shell === 'bash') io.out(bashScript());
      else if (shell === 'zsh') io.out(zshScript());
      else throw usageError(`completion for ${JSON.stringify(shell)}: bash or zsh`);
    });
  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .allowUnknownOption()
    .action((words: string[]) => io.out(completeWords(commandTree(program), words).join('\n') + '\n'));

  // the admin commands open the database: they keep their own parsing and messages
  const adminArgs = () => argv.slice(argv.findIndex((a) => ['migrate', 'tenants', 'tokens'].includes(a)));
  const admin = (name: string, description: string, ex: string) =>
    program
      .command(name)
      .description(`[needs the database] ${description}`)
      .argument('[words...]')
      .allowUnknownOption()
      .helpOption(false)
      .addHelpText('after', example(ex))
      .action(async () => {
        state.code = await io.admin(adminArgs());
      });
  admin('migrate', 'apply pending database migrations', 'DATABASE_URL=postgres://... ampora migrate');
  admin('tenants', 'tenants create <name> [--display-name <t>] | tenants list', 'ampora tenants create acme-eu --display-name "ACME EU"');
  admin('tokens', 'tokens create --tenant <name> --role <Viewer|Operator|Admin> --name <n> [--expires-at <ISO-8601>]: the first token (shown once)', 'TOKEN=$(ampora tokens create --tenant default --role Admin --name me)');
  return program;
}

/** The command tree for completion. */
export function commandTree(cmd: Command): CommandNode {
  const values: Record<string, string[]> = { get: RESOURCE_NAMES, describe: ['agent', 'rollout'], completion: ['bash', 'zsh'] };
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    options: cmd.options.map((o) => o.long ?? o.short ?? '').filter(Boolean),
    argumentValues: values[cmd.name()] ?? [],
    children: cmd.commands.filter((c) => c.name() !== '__complete').map(commandTree),
  };
}

/** Runs one command line; answers the exit code (never throws). */
export async function runAmpora(argv: string[], io: Io): Promise<number> {
  const state = { code: ExitCode.Ok as number };
  const program = buildProgram(io, state, argv);
  try {
    if (argv.length === 0) {
      io.err(program.helpInformation());
      return ExitCode.Usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (e instanceof SelectorError) {
      io.err(`ampora: ${e.message}\n`);
      return ExitCode.Usage;
    }
    if (e instanceof CliError) {
      io.err(`ampora: ${e.message}\n`);
      return e.code;
    }
    io.err(`ampora: ${e instanceof Error ? e.message : String(e)}\n`);
    return ExitCode.Failed;
  }
}
