import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AmporaConfig, closeStorage, parseRole, prepareDatabase, TenantService, TokenService } from '@ampora/platform';
import { ParsedArgs, UsageError } from './args';
import { CliModule } from './cli.module';

export const USAGE = `Usage: npm run cli -- <command>

Commands:
  migrate                                   apply pending database migrations
  tenants create <name> [--display-name <t>] create a tenant
  tenants list                              list tenants
  tokens create --tenant <name> --role <Viewer|Operator|Admin> --name <n> [--expires-at <ISO-8601>]
                                            create a personal access token and print it (shown once)
`;

type Output = (line: string) => void;

export async function runCommand(config: AmporaConfig, args: ParsedArgs, out: Output): Promise<void> {
  const [group, verb, ...rest] = args.words;
  switch (`${group ?? ''} ${verb ?? ''}`.trim()) {
    case 'migrate': {
      const applied = await prepareDatabase(config);
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
      if (!tenant || !name || !role) throw new UsageError('tokens create needs --tenant <name> --role <Viewer|Operator|Admin> --name <n>');
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
  await prepareDatabase(config);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: false });
  try {
    await app.init();
    await fn(app);
  } finally {
    await app.close();
    await closeStorage(config);
  }
}
