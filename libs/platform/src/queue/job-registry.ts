import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';

/** A queue and the names of the jobs it carries (`fleet` → `fleet.reconcile-groups`, ...). */
export interface QueueDefinition<J extends Record<string, string> = Record<string, string>> {
  readonly name: string;
  readonly jobs: J;
  /** Periodic jobs, registered once by the worker as BullMQ job schedulers. */
  readonly schedules?: ReadonlyArray<{ id: string; job: string; everyMs: number }>;
}

export function defineQueue<const J extends Record<string, string>>(
  name: string,
  jobs: J,
  schedules?: ReadonlyArray<{ id: string; job: J[keyof J]; everyMs: number }>,
): QueueDefinition<J> {
  for (const job of Object.values(jobs)) {
    if (!job.startsWith(`${name}.`)) throw new Error(`job ${job} must be named ${name}.<job>`);
  }
  return { name, jobs, schedules };
}

export type JobHandler = (data: unknown) => Promise<unknown>;

/**
 * Knows every queue, every job name and every handler. The worker refuses to start when a declared
 * job has no handler or two, or a handler answers an undeclared name.
 */
@Injectable()
export class JobRegistry {
  private readonly queues = new Map<string, QueueDefinition>();
  private readonly handlers = new Map<string, JobHandler[]>();
  private readonly consumers = new Map<string, () => boolean>();
  private readonly bound = new Map<string, Queue>();

  declare(definition: QueueDefinition): void {
    this.queues.set(definition.name, definition);
  }

  /** The BullMQ queue a module registered with QueueModule.forFeature (bound explicitly, no look-up by token). */
  bindQueue(queue: Queue): void {
    this.bound.set(queue.name, queue);
  }

  queue(name: string): Queue {
    const queue = this.bound.get(name);
    if (!queue) throw new Error(`queue ${name} is not registered: import QueueModule.forFeature(<its definition>) in the module that uses it`);
    return queue;
  }

  definitions(): QueueDefinition[] {
    return [...this.queues.values()];
  }

  isDeclared(queue: string, job: string): boolean {
    return Object.values(this.queues.get(queue)?.jobs ?? {}).includes(job);
  }

  handle(job: string, handler: JobHandler): void {
    const list = this.handlers.get(job) ?? [];
    list.push(handler);
    this.handlers.set(job, list);
  }

  handlerFor(job: string): JobHandler | undefined {
    const list = this.handlers.get(job);
    return list?.length === 1 ? list[0] : undefined;
  }

  /** A queue consumer of this process (a JobProcessor) and whether it is consuming now. */
  trackConsumer(queue: string, running: () => boolean): void {
    this.consumers.set(queue, running);
  }

  /** The queues this process consumes, and whether each consumer is running (worker readiness). */
  consumerStates(): Array<{ queue: string; running: boolean }> {
    return [...this.consumers].map(([queue, running]) => ({ queue, running: running() }));
  }

  /** Problems that stop a worker from starting; empty when every job has exactly one handler. */
  problems(): string[] {
    const problems: string[] = [];
    const declared = new Set<string>();
    for (const q of this.queues.values()) {
      for (const job of Object.values(q.jobs)) {
        declared.add(job);
        const n = this.handlers.get(job)?.length ?? 0;
        if (n === 0) problems.push(`job ${job} of queue ${q.name} has no handler`);
        if (n > 1) problems.push(`job ${job} of queue ${q.name} has ${n} handlers`);
      }
    }
    for (const job of this.handlers.keys()) {
      if (!declared.has(job)) problems.push(`a handler answers ${job}, which no queue declares`);
    }
    return problems;
  }
}
