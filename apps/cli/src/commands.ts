import { resolve } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AmporaConfig, closeStorage, prepareDatabase } from '@ampora/platform';
import { parseRole, TenantService, TokenService } from '@ampora/governance';
import { AMPORA_MIGRATIONS } from '../../composition/src';
import { ParsedArgs, UsageError } from './args';
import { CliModule } from './cli.module';

export const USAGE = `Usage: ampora <command>   (or npm run cli -- <command>)

Admin commands (need the database: run them where the server runs, with its DATABASE_URL):
  migrate                                   apply pending database migrations
  tenants create <name> [--display-name <t>] create a tenant
  tenants list                              list tenants
  tokens create --tenant <name> --role <Viewer|Operator|Admin> --name <n> [--expires-at <ISO-8601>]
                                            create a personal access token and print it (shown once)

The API commands (get, describe, apply, diff, rollout, login, context): ampora --help
`;

type Output = (line: string) => void;

const OPTION_VALUES = { tenant: '<name>', role: '<Viewer|Operator|Admin>', name: '<n>' } as const;

/**
 * Which store a command is about to open, for stderr: without DATABASE_URL the CLI opens the embedded
 * store in AMPORA_DATA_DIR, which a PostgreSQL deployment never reads; saying so keeps a token made
 * against the wrong store from looking like a token for the deployment.
 */
export function describeStore(config: AmporaConfig): string {
  if (config.storage.mode === 'embedded') {
    return `ampora: using the embedded store in ${resolve(config.storage.dataDir)} (set DATABASE_URL to use your PostgreSQL deployment)`;
  }
  try {
    const u = new URL(config.database.url);
    return `ampora: using PostgreSQL at ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname} (DATABASE_URL)`;
  } catch {
    return 'ampora: using PostgreSQL (DATABASE_URL)';
  }
}

export async function runCommand(config: AmporaConfig, args: ParsedArgs, out: Output): Promise<void> {
  const [group, verb, ...rest] = args.words;
  switch (`${group ?? ''} ${verb ?? ''}`.trim()) {
    case 'migrate': {
      const applied = await prepareDatabase(config, AMPORA_MIGRATIONS);
      await closeStorage(config);
      out(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The schema is up to date.');
      return;
    }
    case 'tenants create': {
      const name = rest[0];
      if (!name) throw new UsageError('tenants create needs a <name>');
      await withApp(config, async (app) => {
        const tenant = await app.get(TenantService).create(name, args.options['display-name']);
        out(`Created tenant ${tenant.name} (${tenant.id})`);
      });
      return;
    }
    case 'tenants list': {
      await withApp(config, async (app) => {
        for (const t of await app.get(TenantService).list()) out(`${t.name}\t${t.id}\t${t.displayName}`);
      });
      return;
    }
    case 'tokens create': {
      const tenant = args.options.tenant;
      const role = parseRole(args.options.role);
      const name = args.options.name;
      const missing = (['tenant', 'role', 'name'] as const).filter((o) => !args.options[o] || args.options[o] === 'true');
      if (missing.length) throw new UsageError(`tokens create needs ${missing.map((o) => `--${o} ${OPTION_VALUES[o]}`).join(' ')}`);
      if (!role) throw new UsageError(`--role ${JSON.stringify(args.options.role)} is not a role: use Viewer, Operator or Admin`);
      if (!tenant || !name) throw new UsageError('tokens create needs --tenant <name> and --name <n>');
      const expiresAt = args.options['expires-at'] ? new Date(args.options['expires-at']) : undefined;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires-at must be an ISO-8601 time');
      await withApp(config, async (app) => {
        const { plaintext } = await app.get(TokenService).createForTenantName(tenant, { name, role, expiresAt });
        out(plaintext);
      });
      return;
    }
    default:
      throw new UsageError(group ? `unknown command: ${args.words.join(' ')}` : 'no command given');
  }
}

async function withApp(config: AmporaConfig, fn: (app: INestApplicationContext) => Promise<void>): Promise<void> {
  await prepareDatabase(config, AMPORA_MIGRATIONS);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: false });
  try {
    await app.init();
    await fn(app);
  } finally {
    await app.close();
    await closeStorage(config);
  }
}
