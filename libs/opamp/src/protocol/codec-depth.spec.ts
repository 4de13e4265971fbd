import { create, toBinary } from '@bufbuild/protobuf';
import { AnyValue, AnyValueSchema } from '../generated/anyvalue_pb';
import { AgentToServerSchema } from '../generated/opamp_pb';
import { anyValueToJson, decodeAgentToServer, keyValuesToJson, MAX_ANY_VALUE_DEPTH } from './codec';

/** An array value nested `depth` deep around a string. */
function nested(depth: number): AnyValue {
  let v = create(AnyValueSchema, { value: { case: 'stringValue', value: 'x' } });
  for (let i = 0; i < depth; i++) v = create(AnyValueSchema, { value: { case: 'arrayValue', value: { values: [v] } } });
  return v;
}

describe('attribute values from agents are bounded in depth', () => {
  it('keeps ordinary nesting', () => {
    expect(anyValueToJson(nested(3))).toEqual([[['x']]]);
  });

  it('turns values deeper than MAX_ANY_VALUE_DEPTH into null, however deep the frame nests them', () => {
    const json = anyValueToJson(nested(MAX_ANY_VALUE_DEPTH + 5));
    let depth = 0;
    let cur: unknown = json;
    while (Array.isArray(cur)) {
      cur = cur[0];
      depth++;
    }
    expect(depth).toBe(MAX_ANY_VALUE_DEPTH);
    expect(cur).toBeNull();
  });

  it('decodes a frame whose description nests 40 deep, and converts it within the bound', () => {
    const bytes = toBinary(AgentToServerSchema, create(AgentToServerSchema, { instanceUid: new Uint8Array(16), agentDescription: { identifyingAttributes: [{ key: 'deep', value: nested(40) }] } }));
    const decoded = decodeAgentToServer(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(JSON.stringify(keyValuesToJson(decoded.message.agentDescription!.identifyingAttributes)).length).toBeLessThan(200);
  });

  it('refuses, without throwing, a frame nesting deeper than the protobuf decoder allows (100 messages)', () => {
    const bytes = toBinary(AgentToServerSchema, create(AgentToServerSchema, { instanceUid: new Uint8Array(16), agentDescription: { identifyingAttributes: [{ key: 'deep', value: nested(200) }] } }));
    expect(decodeAgentToServer(bytes)).toMatchObject({ ok: false, reason: expect.stringContaining('maximum recursion depth') });
  });
});
