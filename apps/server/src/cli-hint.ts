import { PlatformConfig, maskDatabaseUrl } from '@ampora/platform';

/**
 * The CLI line printed for the operator: in PostgreSQL mode it carries DATABASE_URL (password
 * masked), because the CLI without it opens an embedded store and its token would be refused here.
 */
export function cliHint(config: PlatformConfig, command = 'tokens create --tenant default --role Admin --name <n>'): string {
  if (config.storage.mode === 'embedded') {
    const dir = config.storage.dataDir === './.ampora' ? '' : `AMPORA_DATA_DIR=${config.storage.dataDir} `;
    return `${dir}npm run -s cli -- ${command}`;
  }
  return `DATABASE_URL=${maskDatabaseUrl(config.database.url)} npm run -s cli -- ${command}`;
}
