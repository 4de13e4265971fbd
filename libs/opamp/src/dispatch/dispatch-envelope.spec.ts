import { create } from '@bufbuild/protobuf';
import { ConnectionSettingsOffersSchema } from '../generated/opamp_pb';
import { desiredConfig } from '../core/opamp-core.service';
import {
  connectionSettingsCommand,
  desiredFromCommand,
  DispatchBatchEnvelope,
  DispatchEnvelope,
  offerFromCommand,
  parseBatchEnvelope,
  parseBatchReply,
  parseEnvelope,
  parseReply,
  remoteConfigCommand,
} from './dispatch-envelope';

function envelope(overrides: Partial<DispatchEnvelope> = {}): DispatchEnvelope {
  return {
    v: 1,
    id: 'e1',
    tenantId: 't1',
    agentId: 'a1',
    fencingToken: '42',
    publishedAt: 1_800_000_000_000,
    from: 'i1',
    trace: {},
    command: { kind: 'disconnect', reason: 'bye' },
    ...overrides,
  };
}

describe('dispatch envelopes', () => {
  it('carry when a forced push\'s change began, and no such field when it is not given (decision 0364)', () => {
    const config = desiredConfig({ 'c.yaml': { body: Buffer.from('receivers: {}\n'), contentType: 'text/yaml' } });
    const timed = JSON.parse(JSON.stringify(remoteConfigCommand(config, true, 1_800_000_000_123))) as ReturnType<typeof remoteConfigCommand>;
    expect(timed).toMatchObject({ kind: 'remote_config', force: true, since: 1_800_000_000_123 });
    expect(parseEnvelope(envelope({ command: timed }))?.command).toEqual(timed);
    expect('since' in remoteConfigCommand(config, true)).toBe(false);
  });

  it('carry a config byte for byte through JSON, with the same hash', () => {
    const config = desiredConfig({ '': { body: Buffer.from('a: 1\n# ü\n\u0000binary'), contentType: 'text/yaml' }, 'extra.yaml': { body: Buffer.from([0xff, 0x00, 0x10]), contentType: 'application/octet-stream' } });
    const command = remoteConfigCommand(config, true);
    const back = JSON.parse(JSON.stringify(command)) as typeof command;
    if (back.kind !== 'remote_config') throw new Error('kind changed');
    const restored = desiredFromCommand(back);
    expect(restored.hash).toBe(config.hash);
    expect(desiredConfig(restored.files).hash).toBe(config.hash);
    expect(Buffer.from(restored.files['extra.yaml']!.body)).toEqual(Buffer.from([0xff, 0x00, 0x10]));
    expect(back.force).toBe(true);
  });

  it('carry connection settings as protobuf', () => {
    const offer = create(ConnectionSettingsOffersSchema, { hash: Buffer.from('abcd', 'hex'), opamp: { destinationEndpoint: 'wss://x/v1/opamp', heartbeatIntervalSeconds: 30n } });
    const command = JSON.parse(JSON.stringify(connectionSettingsCommand(offer)));
    const back = offerFromCommand(command);
    expect(back.opamp?.destinationEndpoint).toBe('wss://x/v1/opamp');
    expect(back.opamp?.heartbeatIntervalSeconds).toBe(30n);
    expect(Buffer.from(back.hash).toString('hex')).toBe('abcd');
  });

  it('are checked before use: anything malformed is refused', () => {
    expect(parseEnvelope(envelope())).toBeDefined();
    expect(parseEnvelope(null)).toBeUndefined();
    expect(parseEnvelope({ ...envelope(), v: 2 })).toBeUndefined();
    expect(parseEnvelope(envelope({ fencingToken: '-1' }))).toBeUndefined();
    expect(parseEnvelope(envelope({ fencingToken: '1'.repeat(20) }))).toBeUndefined();
    expect(parseEnvelope(envelope({ publishedAt: 'yesterday' as never }))).toBeUndefined();
    expect(parseEnvelope(envelope({ command: { kind: 'reboot' } as never }))).toBeUndefined();
    expect(parseEnvelope(envelope({ command: { kind: 'remote_config', hash: 'h' } as never }))).toBeUndefined();
    expect(parseReply({ v: 1, id: 'e1', outcome: 'stale' })).toEqual({ v: 1, id: 'e1', outcome: 'stale' });
    expect(parseReply({ v: 1, id: 'e1', outcome: 'exploded' })).toBeUndefined();
  });

  it('carry a batch for several agents, each with its own fencing token, checked like a single envelope', () => {
    const batch = (overrides: Partial<DispatchBatchEnvelope> = {}): DispatchBatchEnvelope => {
      const { agentId: _a, fencingToken: _f, ...rest } = envelope();
      return { ...rest, agents: [{ agentId: 'a1', fencingToken: '42' }, { agentId: 'a2', fencingToken: '7' }], ...overrides };
    };
    expect(parseBatchEnvelope(JSON.parse(JSON.stringify(batch())))).toEqual(batch());
    expect(parseBatchEnvelope(batch({ agents: [] }))).toBeUndefined();
    expect(parseBatchEnvelope(batch({ agents: [{ agentId: 'a1', fencingToken: '-1' }] }))).toBeUndefined();
    expect(parseBatchEnvelope(batch({ agents: [{ agentId: 'a1' } as never] }))).toBeUndefined();
    expect(parseBatchEnvelope(batch({ command: { kind: 'reboot' } as never }))).toBeUndefined();
    expect(parseBatchEnvelope(batch({ from: 3 as never }))).toBeUndefined();
    // a single envelope is not a batch, nor the other way round
    expect(parseBatchEnvelope(envelope())).toBeUndefined();
    expect(parseEnvelope(batch())).toBeUndefined();
    expect(parseBatchReply({ v: 1, id: 'b1', outcomes: ['delivered', 'stale', 'cap_mismatch'] })).toEqual({ v: 1, id: 'b1', outcomes: ['delivered', 'stale', 'cap_mismatch'] });
    expect(parseBatchReply({ v: 1, id: 'b1', outcomes: ['delivered', 'exploded'] })).toBeUndefined();
    expect(parseBatchReply({ v: 1, id: 'b1', outcome: 'delivered' })).toBeUndefined();
  });

  it('carry a packages push with no payload: the owning instance reads the offer (decision 0376)', () => {
    const e = envelope({ command: { kind: 'packages' } });
    expect(parseEnvelope(JSON.parse(JSON.stringify(e)))?.command).toEqual({ kind: 'packages' });
    expect(parseEnvelope(envelope({ command: { kind: 'package' } as never }))).toBeUndefined();
  });
});
