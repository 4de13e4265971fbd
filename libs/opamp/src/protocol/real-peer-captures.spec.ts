import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentToServer, RemoteConfigStatuses } from '../generated/opamp_pb';
import { capabilityNames } from './capabilities';
import { decodeAgentToServer } from './codec';
import { decodeWsFrame, encodeWsFrame } from './framing';

/**
 * What the real peers sent (test/interop/captures, recorded from the contrib opamp extension and the
 * contrib OpAMP Supervisor at v0.158.0, opamp-go v0.23.0): Ampora's decoder reads every message, and the
 * facts the server relies on hold for them.
 */
const DIR = resolve(__dirname, '../../../../test/interop/captures');

function captured(kind: 'extension' | 'supervisor'): AgentToServer[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(`${kind}-`) && f.endsWith('.bin'))
    .sort()
    .map((f) => {
      // as they came off the wire: with the 0x00 header opamp-go writes
      const frame = decodeWsFrame(encodeWsFrame(readFileSync(join(DIR, f))));
      if (!frame.ok) throw new Error(`${f}: ${frame.reason}`);
      expect(frame.header).toBe(true);
      const decoded = decodeAgentToServer(frame.payload);
      if (!decoded.ok) throw new Error(`${f}: ${decoded.reason}`);
      return decoded.message;
    });
}

describe('messages captured from the real OpAMP peers', () => {
  it.each(['extension', 'supervisor'] as const)('the %s: every message decodes, one 16-byte instance uid, sequence numbers without gaps', (kind) => {
    const messages = captured(kind);
    expect(messages.length).toBeGreaterThanOrEqual(4);
    const uid = Buffer.from(messages[0]!.instanceUid).toString('hex');
    expect(messages[0]!.instanceUid).toHaveLength(16);
    messages.forEach((m, i) => {
      expect(Buffer.from(m.instanceUid).toString('hex')).toBe(uid);
      expect(m.sequenceNum).toBe(BigInt(i));
    });
    // the first message carries the description the server needs to enrol the agent
    const first = messages[0]!;
    const identifying = Object.fromEntries(first.agentDescription!.identifyingAttributes.map((kv) => [kv.key, kv.value?.value.value]));
    expect(identifying['service.name']).toBe('ampora-testcol');
  });

  it('the extension reports status, effective config, health and available components, and accepts no remote config', () => {
    const [first, second] = captured('extension');
    expect(capabilityNames(first!.capabilities).sort()).toEqual(['ReportsAvailableComponents', 'ReportsEffectiveConfig', 'ReportsHealth', 'ReportsStatus']);
    const files = first!.effectiveConfig!.configMap!.configMap;
    expect(Object.keys(files)).toEqual(['']);
    expect(files['']!.contentType).toBe('text/yaml');
    expect(Buffer.from(files['']!.body).toString('utf8')).toContain('opamp');
    // the first message has only the hash of the components; the full list follows ReportAvailableComponents, nested
    expect(first!.availableComponents!.hash.length).toBeGreaterThan(0);
    expect(Object.keys(first!.availableComponents!.components)).toEqual([]);
    const receivers = second!.availableComponents!.components['receivers']!;
    expect(Object.keys(receivers.subComponentMap)).toEqual(['otlp']);
    expect(Object.keys(second!.availableComponents!.components['exporters']!.subComponentMap).sort()).toEqual(['debug', 'nop', 'otlp_http']);
  });

  it('the Supervisor accepts and reports remote config, heartbeats, echoes the config hash through APPLYING to APPLIED, and sends its effective config without a content type', () => {
    const messages = captured('supervisor');
    expect(capabilityNames(messages[0]!.capabilities)).toEqual(expect.arrayContaining(['AcceptsRemoteConfig', 'ReportsRemoteConfig', 'ReportsEffectiveConfig', 'ReportsHealth', 'ReportsHeartbeat', 'ReportsAvailableComponents']));
    const statuses = messages.filter((m) => m.remoteConfigStatus && m.remoteConfigStatus.lastRemoteConfigHash.length > 0).map((m) => m.remoteConfigStatus!);
    expect(statuses.map((s) => s.status)).toEqual([RemoteConfigStatuses.RemoteConfigStatuses_APPLYING, RemoteConfigStatuses.RemoteConfigStatuses_APPLIED]);
    expect(Buffer.from(statuses[0]!.lastRemoteConfigHash).equals(Buffer.from(statuses[1]!.lastRemoteConfigHash))).toBe(true);
    expect(statuses[0]!.lastRemoteConfigHash).toHaveLength(32);
    const effective = messages.find((m) => m.effectiveConfig)!.effectiveConfig!.configMap!.configMap;
    expect(Object.keys(effective)).toEqual(['']);
    expect(effective['']!.contentType).toBe('');
    // the last message says goodbye
    expect(messages[messages.length - 1]!.agentDisconnect).toBeDefined();
  });
});
