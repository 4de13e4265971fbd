import { Role } from '../role';
import { ApprovalRuleDefinition, ApprovalRuleStatus, compileCondition, requiredApproval } from './approval-rule';

const rule = (over: Partial<ApprovalRuleDefinition>): ApprovalRuleDefinition => ({
  id: over.name ?? 'r',
  name: 'r',
  operation: 'rollout.start',
  condition: null,
  requiredRole: Role.Operator,
  status: ApprovalRuleStatus.Active,
  ...over,
});

const prod = { tenant: 'acme', actor: 'alice', rollout: { name: 'r1', kind: 'Rollout', strategy: 'Canary', version: 3 }, group: { name: 'prod-eu' } };
const dev = { ...prod, group: { name: 'dev' } };

describe('approval rules: which apply to an operation (decision 0365)', () => {
  it('applies a rule whose condition matches, and not one whose condition does not', () => {
    const rules = [rule({ name: 'prod', condition: 'group.name matches "prod-.*"' })];
    expect(requiredApproval(rules, 'rollout.start', prod)).toEqual({ requiredRole: Role.Operator, rules: [{ id: 'prod', name: 'prod', requiredRole: Role.Operator }] });
    expect(requiredApproval(rules, 'rollout.start', dev)).toBeUndefined();
  });

  it('applies a rule without a condition to every such operation', () => {
    expect(requiredApproval([rule({ name: 'all' })], 'rollout.start', dev)?.rules.map((r) => r.name)).toEqual(['all']);
  });

  it('ignores Disabled rules and rules of another operation', () => {
    const rules = [rule({ name: 'off', status: ApprovalRuleStatus.Disabled }), rule({ name: 'other', operation: 'configuration.publish' })];
    expect(requiredApproval(rules, 'rollout.start', prod)).toBeUndefined();
  });

  it('asks for the highest role among the rules that apply', () => {
    const rules = [rule({ name: 'op' }), rule({ name: 'admin', requiredRole: Role.Admin, condition: 'rollout.strategy = "Canary"' }), rule({ name: 'no', requiredRole: Role.Admin, condition: 'rollout.version > 10' })];
    const required = requiredApproval(rules, 'rollout.start', prod)!;
    expect(required.requiredRole).toBe(Role.Admin);
    expect(required.rules.map((r) => r.name)).toEqual(['op', 'admin']);
  });

  it('fails closed: a condition that errs, or a stored one that no longer compiles, applies with the reason', () => {
    const erring = requiredApproval([rule({ name: 'typo', condition: 'group.nmae = "prod"' })], 'rollout.start', prod)!;
    expect(erring.rules[0]).toMatchObject({ name: 'typo', failedClosed: expect.stringMatching(/nmae/) });
    const broken = requiredApproval([rule({ name: 'broken', condition: 'group.name =' })], 'rollout.start', prod)!;
    expect(broken.rules[0]).toMatchObject({ name: 'broken', failedClosed: expect.stringMatching(/does not compile/) });
  });

  it('refuses, when written, an unknown operation and a condition reading outside its context', () => {
    expect(compileCondition('rollout.start', 'group.name = "prod"')).toMatchObject({ ok: true });
    expect(compileCondition('rollout.start', null)).toEqual({ ok: true, expression: null });
    expect(compileCondition('agent.delete', null)).toMatchObject({ ok: false, message: expect.stringMatching(/unknown operation/) });
    expect(compileCondition('rollout.start', 'config.yaml has-key "x"')).toMatchObject({ ok: false, message: expect.stringMatching(/"config"/) });
    expect(compileCondition('rollout.start', 'group.name = ')).toMatchObject({ ok: false, message: expect.stringMatching(/does not compile/) });
  });
});
