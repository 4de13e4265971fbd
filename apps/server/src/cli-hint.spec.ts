import { loadConfig, maskDatabaseUrl as maskPassword } from '@ampora/platform';
import { cliHint } from './cli-hint';

describe('the CLI line printed for operators', () => {
  it('carries DATABASE_URL in PostgreSQL mode, with the password masked', () => {
    const hint = cliHint(loadConfig({ DATABASE_URL: 'postgres://ampora:s3cret@db:5432/ampora' }));
    expect(hint).toBe('DATABASE_URL=postgres://ampora:***@db:5432/ampora npm run -s cli -- tokens create --tenant default --role Admin --name <n>');
    expect(hint).not.toContain('s3cret');
  });

  it('names a non-default embedded data directory, and nothing else, in embedded mode', () => {
    expect(cliHint(loadConfig({}))).toBe('npm run -s cli -- tokens create --tenant default --role Admin --name <n>');
    expect(cliHint(loadConfig({ AMPORA_DATA_DIR: '/var/lib/ampora' }))).toBe('AMPORA_DATA_DIR=/var/lib/ampora npm run -s cli -- tokens create --tenant default --role Admin --name <n>');
  });
});

describe('maskDatabaseUrl', () => {
  it('masks a password in the user info, with @ in it, and in the query string', () => {
    expect(maskPassword('postgres://u:s3cr@t@db:5432/ampora')).not.toContain('s3cr');
    const masked = maskPassword('postgres://u@db:5432/ampora?password=s3cret&sslpassword=k3y&application_name=x');
    expect(masked).not.toContain('s3cret');
    expect(masked).not.toContain('k3y');
    expect(masked).toContain('application_name=x');
  });
});
