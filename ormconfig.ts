// The TypeORM CLI DataSource (npm run migration:generate|run|revert). It is the application's own
// DataSource options, plus globs so the CLI sees every entity and every lib's migration files
// (platform's in libs/platform/src/database/migrations, each other lib's in libs/<lib>/src/migrations).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, loadConfig } from './libs/platform/src';

export default new DataSource(
  buildDataSourceOptions(loadConfig(), {
    entities: ['libs/*/src/**/*.entity.ts'],
    migrations: ['libs/platform/src/database/migrations/[0-9]*-*.ts', 'libs/*/src/migrations/[0-9]*-*.ts'],
  }),
);
