import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { buildDataSourceOptions } from './data-source';
import { registerPoolGauges } from './instrumented-pg';
import { TenantIsolationCheck } from './tenant-isolation.check';
import { TransactionRunner } from './transaction-runner';

/** The application's DataSource; domain modules add their entities with TypeOrmModule.forFeature. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AMPORA_CONFIG],
      useFactory: (config: PlatformConfig) => {
        registerPoolGauges(config.app.instanceId);
        return { ...buildDataSourceOptions(config), autoLoadEntities: true, retryAttempts: 3, retryDelay: 1000 };
      },
    }),
  ],
  providers: [TransactionRunner, TenantIsolationCheck],
  exports: [TransactionRunner],
})
export class DatabaseModule {}
