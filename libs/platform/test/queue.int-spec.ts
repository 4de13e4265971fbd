import { Injectable, Module } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { Job } from 'bullmq';
import {
  defineQueue,
  JobProcessor,
  JobProducer,
  JobRegistry,
  PlatformModule,
  QueueModule,
  QueueWorkerModule,
  RequestContext,
  startTelemetry,
  TransactionRunner,
  withSpan,
  currentTraceId,
} from '@ampora/platform';
import { createTestDatabase, TestDatabase, testEnv } from '@ampora/testing';

const PROBE = defineQueue('probe', { echo: 'probe.echo', fail: 'probe.fail' });
const seen: Array<{ payload: unknown; tenant?: string; trace?: string; attempt: number }> = [];

@Processor(PROBE.name)
class ProbeProcessor extends JobProcessor<typeof PROBE> {
  constructor(registry: JobRegistry) {
    super(registry, PROBE);
  }
  protected handlers() {
    return {
      'probe.echo': async (payload: unknown, job: Job) => {
        seen.push({ payload, tenant: RequestContext.tenantId(), trace: currentTraceId(), attempt: job.attemptsMade });
        return 'ok';
      },
      'probe.fail': async () => {
        throw new Error('always fails');
      },
    };
  }
}

@Injectable()
class IncompleteProcessorHost {}

@Module({ imports: [QueueModule.forFeature(PROBE)], providers: [ProbeProcessor] })
class ProbeWorkerModule {}

describe('queues', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  async function boot(modules: unknown[]) {
    const { config } = testEnv(db.url);
    startTelemetry(config, 'worker');
    const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), ...(modules as never[])] }).compile();
    const app = moduleRef.createNestApplication();
    try {
      await app.init();
    } catch (error) {
      await app.close();
      throw error;
    }
    return app;
  }

  it('carries the tenant and the trace of the producer into the job, enqueued after commit', async () => {
    const app = await boot([QueueWorkerModule, ProbeWorkerModule]);
    try {
      const producer = app.get(JobProducer);
      const tx = app.get(TransactionRunner);
      let producerTrace: string | undefined;
      await RequestContext.run({ tenantId: 'tenant-42' }, () =>
        withSpan('test.produce', {}, async () => {
          producerTrace = currentTraceId();
          await tx.run(async ({ afterCommit }) => {
            afterCommit(() => producer.enqueue(PROBE.name, 'probe.echo', { n: 1 }));
            // nothing is enqueued before the transaction commits
            expect(await producer.queue(PROBE.name).count()).toBe(0);
          });
        }),
      );
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([{ payload: { n: 1 }, tenant: 'tenant-42', trace: producerTrace, attempt: 0 }]);
      await expect(producer.enqueue(PROBE.name, 'probe.unknown', {})).rejects.toThrow(/not declared/);
    } finally {
      await app.close();
    }
  });

  it('retries a failing job and leaves it visible in the failed set', async () => {
    const app = await boot([QueueWorkerModule, ProbeWorkerModule]);
    try {
      const producer = app.get(JobProducer);
      const id = await producer.enqueue(PROBE.name, 'probe.fail', {}, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
      const queue = producer.queue(PROBE.name);
      let state = '';
      for (let i = 0; i < 100 && state !== 'failed'; i++) {
        state = (await queue.getJobState(id!)) as string;
        if (state !== 'failed') await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe('failed');
      const job = await queue.getJob(id!);
      expect(job!.attemptsMade).toBe(2);
      expect(job!.failedReason).toBe('always fails');
    } finally {
      await app.close();
    }
  });

  it('refuses to start a worker whose registry has a job without a handler', async () => {
    @Processor('halfdone')
    class HalfProcessor extends JobProcessor<ReturnType<typeof defineQueue<{ a: 'halfdone.a'; b: 'halfdone.b' }>>> {
      constructor(registry: JobRegistry) {
        super(registry, defineQueue('halfdone', { a: 'halfdone.a', b: 'halfdone.b' }));
      }
      protected handlers() {
        return { 'halfdone.a': async () => 1 } as never;
      }
    }
    @Module({ imports: [QueueModule.forFeature(defineQueue('halfdone', { a: 'halfdone.a', b: 'halfdone.b' }))], providers: [HalfProcessor, IncompleteProcessorHost] })
    class HalfModule {}
    await expect(boot([QueueWorkerModule, HalfModule])).rejects.toThrow(/job halfdone\.b of queue halfdone has no handler/);
  });
});
