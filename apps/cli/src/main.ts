import { configureLogging, DomainException } from '@ampora/platform';
import { loadAmporaConfigOrExit } from '../../composition/src/config';
import { parseArgs, UsageError } from './args';
import { describeStore, runCommand, USAGE } from './commands';

async function main(): Promise<number> {
  const config = loadAmporaConfigOrExit();
  // stdout carries the command's answer (a token, say); log lines go to stderr
  configureLogging({ level: config.logging.level, sink: (line) => process.stderr.write(line + '\n') });
  const args = parseArgs(process.argv.slice(2));
  if (args.words.length === 0 || args.options.help) {
    process.stdout.write(USAGE);
    return args.words.length === 0 && !args.options.help ? 64 : 0;
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
      return 64;
    }
    if (error instanceof DomainException) {
      process.stderr.write(`ampora: ${error.message} (${error.code})\n`);
      return 1;
    }
    process.stderr.write(`ampora: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main().then((code) => process.exit(code));
