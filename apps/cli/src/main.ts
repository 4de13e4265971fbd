import { configureLogging, DomainException, loadConfigOrExit } from '@ampora/platform';
import { parseArgs, UsageError } from './args';
import { runCommand, USAGE } from './commands';

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  // stdout carries the command's answer (a token, say); log lines go to stderr
  configureLogging({ level: config.logging.level, sink: (line) => process.stderr.write(line + '\n') });
  const args = parseArgs(process.argv.slice(2));
  if (args.words.length === 0 || args.options.help) {
    process.stdout.write(USAGE);
    return args.words.length === 0 && !args.options.help ? 64 : 0;
  }
  try {
    await runCommand(config, args, (line) => process.stdout.write(line + '\n'));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ampora: ${error.message}\n\n${USAGE}`);
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
