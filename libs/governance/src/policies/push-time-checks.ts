import { Injectable } from '@nestjs/common';
import { PolicyPushCheck } from './policy-push-check';
import { PushContextSource } from './push-context-source';
import { PushCheckRequest, PushCheckResult, PushDenial, PushTimeCheck } from './push-time-check';

/**
 * The push-time-check extension point (issue 17 item 1, decisions 0262 and 0275): every check that
 * may block a push. Governance's `PolicyPushCheck` is always first; a later lib (federation, …)
 * contributes its own explicitly at module init with `register`. Fleet and rollouts call `check`
 * once per push with all of its agents; an agent a check denied is not shown to later checks.
 */
@Injectable()
export class PushTimeChecks {
  private readonly checks: PushTimeCheck[] = [];

  constructor(policies: PolicyPushCheck) {
    this.checks.push(policies);
  }

  register(check: PushTimeCheck): void {
    if (this.checks.some((c) => c.name === check.name)) throw new Error(`a push-time check named ${check.name} is already registered`);
    this.checks.push(check);
  }

  /** The names of the registered checks, in the order they run. */
  names(): string[] {
    return this.checks.map((c) => c.name);
  }

  async check(request: PushCheckRequest): Promise<PushCheckResult> {
    const denied = new Map<string, PushDenial>();
    let targets = request.targets;
    for (const c of this.checks) {
      if (targets.length === 0) break;
      const result = await c.check({ ...request, targets });
      for (const [agentId, denial] of result.denied) if (!denied.has(agentId)) denied.set(agentId, denial);
      if (result.denied.size) targets = targets.filter((t) => !denied.has(t.agent.id));
    }
    return { denied };
  }
}

/**
 * Where the dry run finds the lib that resolves agents and versions (`PushContextSource`): the fleet
 * binds its source at module init (governance cannot import the fleet).
 */
@Injectable()
export class PushContextBinding {
  private bound?: PushContextSource;

  bind(source: PushContextSource): void {
    this.bound = source;
  }

  get source(): PushContextSource | undefined {
    return this.bound;
  }
}
