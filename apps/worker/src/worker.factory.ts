import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AmporaConfig, configureLogging, NestLoggerAdapter, prepareDatabase } from '@ampora/platform';
import { AMPORA_MIGRATIONS } from '../../composition/src';
import { WorkerModule } from './worker.module';

/** Builds the worker: migrations, then an application context whose processors start consuming. */
export async function createWorker(config: AmporaConfig): Promise<INestApplicationContext> {
  configureLogging({ level: config.logging.level });
  if (config.database.migrateOnStart) await prepareDatabase(config, AMPORA_MIGRATIONS);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: new NestLoggerAdapter(),
    abortOnError: false,
  });
  await app.init();
  return app;
}
