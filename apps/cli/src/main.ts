import { runAmpora } from './client/program';

/**
 * `ampora`: a client of the REST API (get, describe, apply, diff, rollout, login, context,
 * completion), plus the admin commands that open the database, loaded only when asked for.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// a computed path: the standalone package (client only) has no admin module and tsc does not follow it
const ADMIN = './admin';

async function admin(argv: string[]): Promise<number> {
  let mod: { runAdmin(argv: string[]): Promise<number> };
  try {
    mod = require(ADMIN) as typeof mod;
  } catch (e) {
    if ((e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
    process.stderr.write('ampora: this command needs the database and the server\'s code: run it where the server is installed (npm run cli -- ...) or in the ampora-cli image\n');
    return 1;
  }
  return mod.runAdmin(argv);
}

runAmpora(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: readStdin,
  isTty: !!process.stdout.isTTY,
  admin,
}).then((code) => process.exit(code));
