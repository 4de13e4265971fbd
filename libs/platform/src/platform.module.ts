import { DynamicModule, Global, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ZodSerializerInterceptor } from 'nestjs-zod';
import { DataSource } from 'typeorm';
import { AuthGuard } from './auth/auth.guard';
import { AbuseLimiter } from './limits/abuse-limiter';
import { MeController } from './auth/me.controller';
import { PlatformConfig } from './config/ampora-config';
import { AMPORA_CONFIG, ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { ProblemFilter } from './errors/problem.filter';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { EdgeInputInterceptor, EdgeValidationPipe } from './http/edge-validation';
import { useCursorKeysOf } from './pagination/cursor-keys';
import { QueueModule } from './queue/queue.module';
import { RedisService } from './redis/redis.service';
import { LiveBus } from './realtime/live-bus';
import { LiveController } from './realtime/live.controller';
import { LiveStreamService } from './realtime/live-stream.service';
import { Backplane } from './backplane/backplane';
import { BackplaneLifecycle, BackplaneProvider } from './backplane/backplane.providers';
import { DispatchEnvelopeEntity } from './backplane/entities/dispatch-envelope.entity';
import { MetricsController } from './telemetry/metrics.controller';
import { TelemetryModule } from './telemetry/telemetry.module';
import { Clock, SystemClock } from './clock/clock';
import { WorkerHeartbeatEntity } from './workers/entities/worker-heartbeat.entity';
import { WorkerPresence } from './workers/worker-presence';
import { StatusController } from './workers/status.controller';

/** Registers the readiness checks of the platform's own dependencies. */
@Injectable()
class PlatformHealthChecks implements OnModuleInit {
  constructor(
    private readonly health: HealthService,
    private readonly dataSource: DataSource,
    private readonly redis: RedisService,
    private readonly backplane: Backplane,
    private readonly workers: WorkerPresence,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  onModuleInit(): void {
    this.health.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
    if (usesRedis(this.config)) this.health.register('redis', () => this.redis.ping());
    this.health.register('backplane', () => this.backplane.check());
    this.health.registerAdvisory('worker', async () => {
      const status = await this.workers.status();
      if (!status.alive) throw new Error(status.lastSeenAt ? `no worker alive; the last heartbeat was at ${status.lastSeenAt}` : 'no worker has ever been seen');
    });
  }
}

/** True when this deployment's queues or backplane live in Redis. */
export function usesRedis(config: PlatformConfig): boolean {
  return config.queue.kind === 'redis' || config.dispatch.backplane === 'redis';
}

const SERVICES = [
  RedisService,
  AbuseLimiter,
  HealthService,
  LiveBus,
  WorkerPresence,
];

/**
 * Configuration, storage, queues, the backplane, the live bus and the clock: the mechanisms every
 * process needs. Tenancy, tokens, roles and audit are governance's (`GovernanceModule`).
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(config: PlatformConfig, options: { clock?: Clock } = {}): DynamicModule {
    // list cursors are signed with a key derived from the master key (decision 0141)
    useCursorKeysOf(config);
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        TypeOrmModule.forFeature([DispatchEnvelopeEntity, WorkerHeartbeatEntity]),
        QueueModule.forRoot(),
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        TelemetryModule,
      ],
      providers: [...SERVICES, options.clock ? { provide: Clock, useValue: options.clock } : { provide: Clock, useClass: SystemClock }, BackplaneProvider, BackplaneLifecycle, PlatformHealthChecks],
      exports: [...SERVICES, Clock, Backplane],
    };
  }
}

/**
 * The HTTP face of the platform: guard, problem filter, validation, and the platform's routes. The
 * guard asks the `AccessPolicy` port, which `GovernanceModule` binds (decision 0180).
 */
@Module({
  controllers: [HealthController, MetricsController, LiveController, StatusController, MeController],
  providers: [
    LiveStreamService,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: ProblemFilter },
    // validation at the edge, for every route (decision 0140)
    { provide: APP_INTERCEPTOR, useClass: EdgeInputInterceptor },
    { provide: APP_PIPE, useClass: EdgeValidationPipe },
    { provide: APP_INTERCEPTOR, useClass: ZodSerializerInterceptor },
  ],
})
export class PlatformApiModule {}
