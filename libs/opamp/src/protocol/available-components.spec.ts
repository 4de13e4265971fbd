import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { AnyValueSchema, KeyValueSchema } from '../generated/anyvalue_pb';
import { AgentToServerSchema, ComponentDetails, ComponentDetailsSchema } from '../generated/opamp_pb';
import { availableComponentsToJson, decodeAgentToServer } from './codec';

interface Fixture {
  hash: string;
  components: Record<string, Record<string, string>>;
}
const fixture = JSON.parse(readFileSync(join(__dirname, '__fixtures__', 'collector-available-components.json'), 'utf8')) as Fixture;

const details = (metadata: Record<string, string>, sub: Record<string, ComponentDetails> = {}): ComponentDetails =>
  create(ComponentDetailsSchema, {
    metadata: Object.entries(metadata).map(([key, v]) => create(KeyValueSchema, { key, value: create(AnyValueSchema, { value: { case: 'stringValue', value: v } }) })),
    subComponentMap: sub,
  });

/** The bytes a Collector sends: the fixture encoded as an AgentToServer, then decoded like any frame. */
function received(components: Record<string, ComponentDetails>) {
  const bytes = toBinary(AgentToServerSchema, create(AgentToServerSchema, { instanceUid: new Uint8Array(16).fill(7), availableComponents: { hash: Buffer.from(fixture.hash, 'hex'), components } }));
  const decoded = decodeAgentToServer(bytes);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message.availableComponents!;
}

describe('available components', () => {
  it('keeps a Collector\'s nested report: kinds, their components and each one\'s module', () => {
    const components = Object.fromEntries(
      Object.entries(fixture.components).map(([kind, byType]) => [kind, details({}, Object.fromEntries(Object.entries(byType).map(([type, module]) => [type, details({ 'code.namespace': module })])))]),
    );
    const json = availableComponentsToJson(received(components));
    expect(json.hash).toBe(fixture.hash);
    expect(json.components).toEqual(['connectors', 'exporters', 'extensions', 'processors', 'receivers']);
    expect(json.subComponents).toMatchObject({ receivers: ['otlp'], exporters: ['debug', 'nop'], processors: [] });
    expect(json.tree.receivers!.subComponents.otlp!.metadata).toEqual({ 'code.namespace': 'go.opentelemetry.io/collector/receiver/otlpreceiver v0.158.0' });
  });

  it('follows sub_component_map to any depth the protocol allows, and bounds it', () => {
    let deep = details({ level: '12' });
    for (let level = 11; level >= 1; level--) deep = details({ level: String(level) }, { [`c${level + 1}`]: deep });
    const json = availableComponentsToJson(received({ c1: deep }));
    let node = json.tree.c1!;
    let depth = 1;
    while (Object.keys(node.subComponents).length) {
      node = Object.values(node.subComponents)[0]!;
      depth++;
    }
    expect(depth).toBe(8);
    expect(node.metadata).toEqual({ level: '8' });
  });
});
