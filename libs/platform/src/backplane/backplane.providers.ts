import { FactoryProvider, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { RedisService } from '../redis/redis.service';
import { Backplane } from './backplane';
import { InProcessBackplane } from './inprocess-backplane';
import { PostgresBackplane } from './postgres-backplane';
import { RedisBackplane } from './redis-backplane';

/** The transport AMPORA_BACKPLANE names. */
export function createBackplane(config: PlatformConfig, redis: RedisService, dataSource: DataSource): Backplane {
  switch (config.dispatch.backplane) {
    case 'redis':
      return new RedisBackplane(config, redis);
    case 'postgres':
      return new PostgresBackplane(config, dataSource);
    case 'inprocess':
      return new InProcessBackplane(config);
  }
}

/** The backplane, listening before anything that uses it is created. */
export const BackplaneProvider: FactoryProvider<Promise<Backplane>> = {
  provide: Backplane,
  inject: [AMPORA_CONFIG, RedisService, DataSource],
  useFactory: async (config: PlatformConfig, redis: RedisService, dataSource: DataSource) => {
    const backplane = createBackplane(config, redis, dataSource);
    await backplane.start();
    return backplane;
  },
};

/** Stops listening once the application has closed everything that sends or answers. */
@Injectable()
export class BackplaneLifecycle implements OnApplicationShutdown {
  constructor(private readonly backplane: Backplane) {}

  async onApplicationShutdown(): Promise<void> {
    await this.backplane.stop();
  }
}
