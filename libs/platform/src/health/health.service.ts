import { Injectable } from '@nestjs/common';
import { withTimeout } from '../redis/redis.service';

export type HealthCheck = () => Promise<void>;

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { status: 'up' | 'down'; error?: string; advisory?: boolean }>;
}

/** Readiness checks registered by whoever owns a dependency (database, Redis, backplane, ...). */
@Injectable()
export class HealthService {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly advisories = new Map<string, HealthCheck>();
  private draining = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  /**
   * A check that is reported but does not make the instance unready (say, no worker is running:
   * this instance still serves the API and its agents, but queued work waits).
   */
  registerAdvisory(name: string, check: HealthCheck): void {
    this.advisories.set(name, check);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** After this, readiness answers 503 so load balancers stop sending new work. */
  startDraining(): void {
    this.draining = true;
  }

  async readiness(timeoutMs = 2000): Promise<ReadinessReport> {
    const run = (list: Map<string, HealthCheck>, advisory: boolean) =>
      Promise.all(
        [...list].map(async ([name, check]) => {
          const extra = advisory ? { advisory: true } : {};
          try {
            await withTimeout(check(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
            return [name, { status: 'up' as const, ...extra }] as const;
          } catch (error) {
            return [name, { status: 'down' as const, error: error instanceof Error ? error.message : String(error), ...extra }] as const;
          }
        }),
      );
    const [entries, advisories] = await Promise.all([run(this.checks, false), run(this.advisories, true)]);
    const checks: ReadinessReport['checks'] = Object.fromEntries(entries);
    if (this.draining) checks.shutdown = { status: 'down', error: 'this instance is shutting down' };
    const ok = Object.values(checks).every((c) => c.status === 'up');
    Object.assign(checks, Object.fromEntries(advisories));
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}
