import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { getTextEncoding } from '@bufbuild/protobuf/wire';
import { AgentToServerSchema, ServerToAgentSchema } from '../generated/opamp_pb';
import { desiredConfig, toRemoteConfig } from '../core/remote-config-offers';
import { decodeAgentToServer, encodeServerToAgent, keyValuesToJson, serverToAgent } from './codec';

/** A frame whose `service.name` value is the marker "@@@", with those three bytes replaced by `bytes`. */
function frameWith(bytes: number[]): Uint8Array {
  const frame = toBinary(
    AgentToServerSchema,
    create(AgentToServerSchema, {
      instanceUid: new Uint8Array(16).fill(7),
      agentDescription: { identifyingAttributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'a@@@b' } } }] },
      health: { healthy: true, lastError: 'x@@@' },
    }),
  );
  const buf = Buffer.from(frame);
  for (let at = buf.indexOf('@@@'); at >= 0; at = buf.indexOf('@@@', at + 3)) buf.set(bytes, at);
  return buf;
}

describe('decodeAgentToServer', () => {
  it.each([
    ['invalid bytes', [0xff, 0xfe, 0x41], 2],
    ['an encoded lone surrogate', [0xed, 0xa0, 0x80], 3],
  ])('decodes strings with %s as U+FFFD and says so', (_name, bytes, replacements) => {
    const decoded = decodeAgentToServer(frameWith(bytes));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.invalidUtf8).toBe(true);
    const value = decoded.message.agentDescription!.identifyingAttributes[0]!.value!.value.value as string;
    expect(value).toBe(`a${'\uFFFD'.repeat(replacements)}${bytes[2] === 0x41 ? 'A' : ''}b`);
    expect(decoded.message.health!.lastError.startsWith('x\uFFFD')).toBe(true);
  });

  it('decodes valid frames strictly, leaves protobuf-es strict afterwards and still refuses broken frames', () => {
    const before = getTextEncoding();
    const ok = decodeAgentToServer(frameWith([0x40, 0x40, 0x40]));
    expect(ok.ok && ok.invalidUtf8).toBeFalsy();
    expect(decodeAgentToServer(frameWith([0xff, 0xff, 0xff])).ok).toBe(true);
    expect(getTextEncoding()).toBe(before);
    expect(() => before.decodeUtf8(new Uint8Array([0xff]), true)).toThrow();
    const cut = frameWith([0xff, 0xff, 0xff]).subarray(0, 30);
    expect(decodeAgentToServer(cut).ok).toBe(false);
  });
});

describe('keyValuesToJson', () => {
  it('keeps an attribute named __proto__ as an own property', () => {
    const json = keyValuesToJson([{ key: '__proto__', value: { value: { case: 'stringValue', value: 'x' } } } as never]);
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(JSON.stringify(json)).toBe('{"__proto__":"x"}');
  });
});

describe('encodeServerToAgent', () => {
  const desired = desiredConfig({ 'collector.yaml': { contentType: 'text/yaml', body: Buffer.from('receivers: {}\n') } });

  it('encodes a push with a shared remote config as protobuf-es would, for every agent it is sent to', () => {
    const config = toRemoteConfig(desired);
    expect(toRemoteConfig(desired)).toBe(config); // one object per desired config
    for (const fill of [1, 2]) {
      const message = serverToAgent({ instanceUid: new Uint8Array(16).fill(fill), capabilities: 7n, flags: 1n, remoteConfig: config });
      const bytes = encodeServerToAgent(message);
      expect(bytes.length).toBe(toBinary(ServerToAgentSchema, message).length);
      const decoded = fromBinary(ServerToAgentSchema, bytes);
      expect(decoded.instanceUid).toEqual(new Uint8Array(16).fill(fill));
      expect(decoded.flags).toBe(1n);
      expect(decoded.capabilities).toBe(7n);
      expect(Buffer.from(decoded.remoteConfig!.configHash).toString('hex')).toBe(desired.hash);
      expect(Buffer.from(decoded.remoteConfig!.config!.configMap['collector.yaml']!.body).toString()).toBe('receivers: {}\n');
      expect(message.remoteConfig).toBe(config); // the message is left as it was
    }
  });

  it('encodes a message without a remote config exactly as protobuf-es does', () => {
    const message = serverToAgent({ instanceUid: new Uint8Array(16).fill(3), capabilities: 5n });
    expect(Buffer.from(encodeServerToAgent(message))).toEqual(Buffer.from(toBinary(ServerToAgentSchema, message)));
  });
});
