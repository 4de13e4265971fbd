import { create } from '@bufbuild/protobuf';
import { ConnectionSettingsOffersSchema } from '../generated/opamp_pb';
import { desiredConfig } from '../core/opamp-core.service';
import {
  connectionSettingsCommand,
  desiredFromCommand,
  DispatchEnvelope,
  offerFromCommand,
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
});
