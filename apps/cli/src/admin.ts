import { configureLogging, DomainException } from '@ampora/platform';
import { loadAmporaConfigOrExit } from '../../composition/src/config';
import { parseArgs, UsageError } from './args';
import { describeStore, runCommand, USAGE } from './commands';

/** Usage errors end with 2, as every ampora command (decision 0351). */
const USAGE_EXIT = 2;

/**
 * The admin commands that open the database (migrate, tenants, tokens create): they run where the
 * server runs, with its DATABASE_URL, even while it is stopped. Loaded only when one is asked for,
 * so the standalone `ampora` package needs none of the server's code.
 */
export async function runAdmin(argv: string[]): Promise<number> {
  const config = loadAmporaConfigOrExit();
  // stdout carries the command's answer (a token, say); log lines go to stderr
  configureLogging({ level: config.logging.level, sink: (line) => process.stderr.write(line + '\n') });
  const args = parseArgs(argv);
  if (args.words.length === 0 || args.options.help) {
    process.stdout.write(USAGE);
    return args.words.length === 0 && !args.options.help ? USAGE_EXIT : 0;
  }
  try {
    // stderr: which store this is (stdout carries only the answer, for TOKEN=$(npm run -s cli ...))
    process.stderr.write(describeStore(config) + '\n');
    await runCommand(config, args, (line) => process.stdout.write(line + '\n'));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      // the specific problem, then where to read more (the whole usage only when the command is unknown)
      process.stderr.write(`ampora: ${error.message}\n${error.message.startsWith('unknown command') || error.message === 'no command given' ? `\n${USAGE}` : 'Run `npm run cli -- --help` for the usage.\n'}`);
      return USAGE_EXIT;
    }
    if (error instanceof DomainException) {
      process.stderr.write(`ampora: ${error.message} (${error.code})\n`);
      return 1;
    }
    process.stderr.write(`ampora: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

