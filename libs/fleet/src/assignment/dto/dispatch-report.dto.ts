import { z } from 'zod';

export const DispatchReportSchema = z
  .object({
    agents: z.number().int().describe('Agents to reach'),
    mode: z.enum(['none', 'inline', 'paced']).describe('inline: pushed now; paced: the worker pushes at AMPORA_FLEET_DISPATCH_RATE agents per second'),
    outcomes: z
      .object({ delivered: z.number().int(), queued: z.number().int(), unchanged: z.number().int(), no_session: z.number().int(), cap_mismatch: z.number().int(), unconfirmed: z.number().int() })
      .describe('Per-agent outcomes of an inline dispatch (zero when paced)'),
    unassigned: z.number().int().describe('Agents with no assigned config to push'),
    pacedJobs: z.number().int(),
    estimatedSeconds: z.number().int(),
    notAcceptingRemoteConfig: z.array(z.uuid()).describe('Agents whose last reported capabilities lack AcceptsRemoteConfig (first 1,000): they keep the assignment but get no push'),
    notAcceptingRemoteConfigCount: z.number().int(),
    deniedByPolicy: z
      .array(z.object({ agentId: z.uuid(), policyId: z.string(), policyName: z.string(), reason: z.string() }))
      .describe('Agents a push-time check (a policy in required mode) denied (first 1,000): not pushed; the denial is also on the agent (GET /api/agents/{id}, pushDenial)'),
    deniedByPolicyCount: z.number().int(),
    warnings: z
      .array(z.string())
      .describe('`no_worker`: paced while no worker was alive (see GET /api/status); the pushes wait in the queue until a worker runs'),
  })
  .meta({ id: 'DispatchReport' });
