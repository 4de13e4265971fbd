import fc from 'fast-check';
import { create, toBinary } from '@bufbuild/protobuf';
import { AgentToServerSchema } from '../generated/opamp_pb';
import { decodeAgentToServer } from './codec';
import { decodeWsFrame } from './framing';

const valid = toBinary(
  AgentToServerSchema,
  create(AgentToServerSchema, {
    instanceUid: new Uint8Array(16).fill(7),
    sequenceNum: 3n,
    capabilities: 0x3003n,
    agentDescription: { identifyingAttributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'x' } } }] },
    remoteConfigStatus: { status: 1, lastRemoteConfigHash: new Uint8Array(32).fill(1) },
  }),
);

/** A valid frame with random damage: flipped bytes, a cut, inserted garbage, with or without header. */
const mutatedFrame = fc
  .record({
    header: fc.boolean(),
    flips: fc.array(fc.record({ at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
    cut: fc.option(fc.nat()),
    insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) })),
  })
  .map(({ header, flips, cut, insert }) => {
    let bytes = Buffer.from(valid);
    for (const f of flips) bytes[f.at % bytes.length] = f.to;
    if (insert) {
      const at = insert.at % (bytes.length + 1);
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(insert.bytes), bytes.subarray(at)]);
    }
    if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return header ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  });

describe('the frame decoder never throws', () => {
  const decode = (frame: Uint8Array) => {
    const f = decodeWsFrame(frame);
    return f.ok ? decodeAgentToServer(f.payload) : f;
  };

  it('on random bytes: each frame decodes or is refused with a reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (frame) => {
        const result = decode(frame);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('on damaged valid frames', () => {
    let decoded = 0;
    let refused = 0;
    fc.assert(
      fc.property(mutatedFrame, (frame) => {
        const result = decode(frame);
        if (result.ok) decoded++;
        else refused++;
      }),
      { numRuns: 3000 },
    );
    // both outcomes occur: the generator really damages frames, and not all damage is fatal
    expect(decoded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

