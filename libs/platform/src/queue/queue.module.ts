import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { createPostgresBackend, Queue, setDefaultBackendFactory } from 'bullmq';
import { PlatformConfig } from '../config/ampora-config';
import { EmbeddedPostgres } from '../database/embedded/embedded-postgres';
import { QUEUE_SCHEMA } from '../database/migrator';
import { AMPORA_CONFIG } from '../config/config.module';
import { injectTraceContext } from '../telemetry/tracing';
import { createLogger } from '../logging/logger';
import { JobProducer } from './job.producer';
import { PlannerStatistics } from '../database/planner-statistics';
import { WorkerHeartbeat } from '../workers/worker-heartbeat';
import { JobRegistry, QueueDefinition } from './job-registry';

/**
 * BullMQ settings for this deployment: Redis, or BullMQ's PostgreSQL backend (the deployment's
 * PostgreSQL, or the embedded database). The PostgreSQL schema is migrated by prepareDatabase.
 */
export function bullRootOptions(config: PlatformConfig) {
  const prefix = `${config.redis.keyPrefix}:bull`;
  if (config.queue.kind === 'redis') {
    setDefaultBackendFactory();
    return { connection: { url: config.redis.url, maxRetriesPerRequest: null, connectTimeout: 5000 }, prefix };
  }
  setDefaultBackendFactory(createPostgresBackend);
  const connection =
    config.storage.mode === 'embedded'
      ? EmbeddedPostgres.current(config.storage.dataDir).pool(QUEUE_SCHEMA)
      : { connectionString: config.database.url, schema: QUEUE_SCHEMA, max: 5 };
  return { connection: connection as never, prefix };
}

@Global()
@Module({})
export class QueueModule {
  /** BullMQ on this deployment's queue backend, plus the job registry and producer. */
  static forRoot(): DynamicModule {
    return {
      module: QueueModule,
      imports: [BullModule.forRootAsync({ inject: [AMPORA_CONFIG], useFactory: bullRootOptions })],
      providers: [JobRegistry, JobProducer],
      exports: [JobRegistry, JobProducer],
    };
  }

  /** Registers one queue, declares its job names and binds it to the producer (imported by the domain module that produces). */
  static forFeature(definition: QueueDefinition): DynamicModule {
    const token = `ampora:queue-definition:${definition.name}`;
    return {
      module: QueueModule,
      global: false,
      imports: [BullModule.registerQueue({ name: definition.name })],
      providers: [
        {
          provide: token,
          inject: [JobRegistry, getQueueToken(definition.name)],
          useFactory: (registry: JobRegistry, queue: Queue) => {
            registry.declare(definition);
            // the producer reaches this queue through the registry, bound here where the queue is provided
            registry.bindQueue(queue);
            return definition;
          },
        },
      ],
      exports: [BullModule, token],
    };
  }
}

/**
 * Imported only by the worker: refuses to start when a job has no handler or two, then registers
 * the periodic jobs (BullMQ job schedulers run each tick once, however many workers are up).
 */
@Injectable()
export class QueueWorkerBootstrap implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Platform.Queue.WorkerBootstrap');

  constructor(
    private readonly registry: JobRegistry,
    private readonly producer: JobProducer,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const problems = this.registry.problems();
    if (problems.length) throw new Error(`The job registry is inconsistent:\n  - ${problems.join('\n  - ')}`);
    for (const def of this.registry.definitions()) await this.schedule(def);
  }

  private async schedule(def: QueueDefinition): Promise<void> {
    for (const s of def.schedules ?? []) {
      await this.producer.queue(def.name).upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.job, data: { trace: injectTraceContext(), payload: {} }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } });
      this.log.debug('Scheduled {Job} every {EveryMs} ms', { Job: s.job, EveryMs: s.everyMs });
    }
  }
}

@Module({ providers: [QueueWorkerBootstrap, WorkerHeartbeat, PlannerStatistics] })
export class QueueWorkerModule {}
