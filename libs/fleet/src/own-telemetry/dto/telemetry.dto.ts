import { DISPATCH_OUTCOMES } from '@ampora/opamp';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const TelemetryQuerySchema = z.object({
  windowSeconds: z.coerce.number().int().min(10).max(7 * 86400).optional().describe('The window of the counts and rates (default AMPORA_AGENT_TELEMETRY_RATE_WINDOW_SECONDS)'),
});
export class TelemetryQueryDto extends createZodDto(TelemetryQuerySchema) {}

const SignalSchema = z.enum(['traces', 'metrics', 'logs']);

const SignalTelemetrySchema = z
  .object({
    signal: SignalSchema,
    accepted: z.number().describe('Items the receivers accepted'),
    refused: z.number().describe('Items the receivers refused'),
    dropped: z.number().describe('Items the processors dropped'),
    sent: z.number().describe('Items the exporters sent'),
    sendFailed: z.number().describe('Items the exporters failed to send'),
    queueSize: z.number().describe('Items in the exporters\' queues, last reported'),
    acceptedPerSecond: z.number(),
    sentPerSecond: z.number(),
    exportFailureRatio: z.number().nullable().describe('sendFailed / (sent + sendFailed); null without exports'),
    dropRatio: z.number().nullable().describe('dropped / accepted; null without accepted items'),
  })
  .meta({ id: 'SignalTelemetry' });

const ComponentTelemetrySchema = z
  .object({
    kind: z.enum(['receiver', 'processor', 'exporter']),
    component: z.string().describe('The component id of the Collector\'s configuration (otlp, batch, otlphttp/backend, ...)'),
    signal: SignalSchema,
    accepted: z.number(),
    refused: z.number(),
    dropped: z.number(),
    sent: z.number(),
    sendFailed: z.number(),
    queueSize: z.number().nullable(),
  })
  .meta({ id: 'ComponentTelemetry' });

const TelemetryViewSchema = z.object({
  window: z.object({ seconds: z.number().int(), from: z.string(), to: z.string() }),
  agents: z.number().int().describe('Agents summed'),
  reporting: z.number().int().describe('Agents among them that reported their own metrics in the window'),
  signals: z.array(SignalTelemetrySchema),
  components: z.array(ComponentTelemetrySchema),
});

export class AgentTelemetryDto extends createZodDto(TelemetryViewSchema.extend({ agentId: z.uuid() })) {}
export class ConfigurationTelemetryDto extends createZodDto(
  TelemetryViewSchema.extend({ configurationId: z.uuid().describe('Summed over the agents assigned one of its versions') }),
) {}

export const EndpointOfferSchema = z
  .object({
    endpoint: z.url({ protocol: /^(wss?|https?)$/ }).max(2000).describe('The OpAMP URL the agent is to use from now on (ws, wss, http or https)'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(4000))
      .optional()
      .describe('Headers the agent is to send there (an agent applying the offer replaces its own: give its Authorization when it uses a token); never returned or audited'),
  })
  .strict();
export class EndpointOfferDto extends createZodDto(EndpointOfferSchema) {}

export class EndpointOfferResultDto extends createZodDto(
  z.object({
    agentId: z.uuid(),
    endpoint: z.string(),
    hash: z.string().describe('The offer\'s hash (hex): the agent reports it in its connection settings status'),
    delivery: z.string().describe('delivered, queued (HTTP agents: with the next poll), no_session, ...'),
  }),
) {}

export class GroupEndpointOfferResultDto extends createZodDto(
  z.object({
    groupId: z.uuid(),
    endpoint: z.string(),
    hash: z.string().describe('The offer\'s hash (hex), the same for every agent: each reports it in its connection settings status'),
    agents: z.number().int().describe('Agents in the group'),
    offered: z
      .array(z.object({ agentId: z.uuid(), delivery: z.enum(DISPATCH_OUTCOMES) }))
      .describe('Agents the offer was pushed to: delivered, queued (HTTP agents: with the next poll), no_session (not connected: it keeps its endpoint), ...'),
    skipped: z.array(z.object({ agentId: z.uuid(), reason: z.enum(['lacks_capability']) })).describe('Agents that do not accept OpAMP connection settings'),
  }),
) {}
