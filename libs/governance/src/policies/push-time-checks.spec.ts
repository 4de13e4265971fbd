import { PolicyPushCheck } from './policy-push-check';
import { PushCheckRequest, PushCheckResult, PushDenial, PushTimeCheck } from './push-time-check';
import { PushTimeChecks } from './push-time-checks';

/** A check that denies the agents it is told to, and remembers which agents it was asked about. */
class ListCheck implements PushTimeCheck {
  readonly asked: string[][] = [];
  constructor(
    readonly name: string,
    private readonly deny: string[],
  ) {}
  async check(request: PushCheckRequest): Promise<PushCheckResult> {
    this.asked.push(request.targets.map((t) => t.agent.id));
    const denied = new Map<string, PushDenial>();
    for (const t of request.targets) if (this.deny.includes(t.agent.id)) denied.set(t.agent.id, { check: this.name, policyId: this.name, policyName: this.name, reason: `${this.name} says no` });
    return { denied };
  }
}

const agent = (id: string) => ({ agent: { id, description: {}, capabilities: [], group: null, labels: {} } });
const request = (ids: string[]): PushCheckRequest => ({ tenantId: 't', path: 'rollout-step', config: {}, targets: ids.map(agent) });

describe('PushTimeChecks (the push-time-check extension point)', () => {
  it('runs the policies first, then registered checks, each once per push, hiding agents already denied', async () => {
    const policies = new ListCheck('policies', ['a']);
    const checks = new PushTimeChecks(policies as unknown as PolicyPushCheck);
    const federation = new ListCheck('federation', ['a', 'b']);
    checks.register(federation);
    expect(checks.names()).toEqual(['policies', 'federation']);

    const result = await checks.check(request(['a', 'b', 'c']));
    expect(policies.asked).toEqual([['a', 'b', 'c']]);
    expect(federation.asked).toEqual([['b', 'c']]);
    expect(result.denied.get('a')).toMatchObject({ check: 'policies' });
    expect(result.denied.get('b')).toMatchObject({ check: 'federation' });
    expect(result.denied.has('c')).toBe(false);
  });

  it('refuses a second check with the same name, and stops once every agent is denied', async () => {
    const policies = new ListCheck('policies', ['a']);
    const checks = new PushTimeChecks(policies as unknown as PolicyPushCheck);
    expect(() => checks.register(new ListCheck('policies', []))).toThrow(/already registered/);
    const later = new ListCheck('later', []);
    checks.register(later);
    expect((await checks.check(request(['a']))).denied.size).toBe(1);
    expect(later.asked).toEqual([]);
  });
});
