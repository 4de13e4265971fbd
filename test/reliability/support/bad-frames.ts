import { randomBytes, randomInt } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encodeAgentToServer } from '@ampora/testing';

/**
 * Bad OpAMP frames whose fate is known before they are sent (so the suite can demand that
 * `ampora_opamp_frames_rejected_total` grows by exactly what it sent): each kind says the reason it
 * must be counted under and whether the server answers it (an error_response, an HTTP status) or
 * closes the connection. Every kind is built to fail decoding or the server's own checks whatever
 * its random part holds: its first protobuf tag names field 0, a length-delimited field is cut
 * short, or the instance_uid is not 16 bytes.
 */
export type RejectReason = 'malformed' | 'oversize';

export interface WsBadFrame {
  kind: string;
  data: Buffer | string;
  reason: RejectReason;
  /** 'reply': an error_response comes back and the connection stays; 'close': it is closed (with `closeCode`). */
  outcome: 'reply' | 'close';
  closeCode?: number;
}

export interface HttpBadBody {
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
  reason: RejectReason;
  status: number;
}

const PROTOBUF = 'application/x-protobuf';

function description(size: number): Record<string, unknown> {
  return {
    agent_description: {
      identifying_attributes: [{ key: 'service.name', value: { string_value: 'io.opentelemetry.collector' } }],
      non_identifying_attributes: [{ key: 'host.name', value: { string_value: 'h'.repeat(size) } }],
    },
  };
}

/** A valid AgentToServer of `uid` (its last field a description of about `size` bytes). */
export function validMessage(uid: Buffer, seq: number, size = 64): { head: Buffer; tail: Buffer } {
  const head = encodeAgentToServer({ instance_uid: uid, sequence_num: seq, capabilities: 0x3007 });
  const tail = encodeAgentToServer(description(size));
  return { head, tail };
}

/** Random bytes whose first tag names field 0 (never a valid message). */
function randomPayload(): Buffer {
  return Buffer.concat([Buffer.from([randomInt(1, 8)]), randomBytes(randomInt(0, 256))]);
}

/** A valid message cut inside its last length-delimited field. */
function truncated(uid: Buffer, seq: number): Buffer {
  const { head, tail } = validMessage(uid, seq, randomInt(8, 200));
  const cut = randomInt(1, tail.length - 3); // the tag and a 1–2-byte length stay, the body is short
  return Buffer.concat([head, tail.subarray(0, tail.length - cut)]);
}

/** A valid message with random bit flips, its first tag flipped to field 0. */
function bitFlipped(uid: Buffer, seq: number): Buffer {
  const { head, tail } = validMessage(uid, seq);
  const bytes = Buffer.concat([head, tail]);
  for (let i = randomInt(0, 5); i > 0; i--) bytes[randomInt(0, bytes.length)] ^= 1 << randomInt(0, 8);
  bytes[0] = bytes[0]! & 0x07 || 0x02;
  return bytes;
}

/** A valid message whose instance_uid has the wrong length. */
function wrongUidLength(seq: number): Buffer {
  const length = [randomInt(1, 16), randomInt(17, 40)][randomInt(0, 2)]!;
  const { head, tail } = validMessage(randomBytes(length), seq);
  return Buffer.concat([head, tail]);
}

const header = (payload: Buffer) => Buffer.concat([Buffer.from([0]), payload]);

/** The kinds of bad WebSocket frames, in the proportions of the fuzz run. */
export function badWsFrame(uid: Buffer, seq: number, maxMessageBytes: number): WsBadFrame {
  const pick = randomInt(0, 100);
  if (pick < 22) return { kind: 'random bytes', data: header(randomPayload()), reason: 'malformed', outcome: 'reply' };
  if (pick < 36) return { kind: 'truncated', data: header(truncated(uid, seq)), reason: 'malformed', outcome: 'reply' };
  if (pick < 50) return { kind: 'bit-flipped', data: header(bitFlipped(uid, seq)), reason: 'malformed', outcome: 'reply' };
  if (pick < 60) return { kind: 'field-mutated (instance_uid length)', data: header(wrongUidLength(seq)), reason: 'malformed', outcome: 'reply' };
  if (pick < 68) {
    // another agent's uid inside this agent's connection
    const { head, tail } = validMessage(randomBytes(16), seq);
    return { kind: 'field-mutated (instance_uid of another agent)', data: header(Buffer.concat([head, tail])), reason: 'malformed', outcome: 'reply' };
  }
  if (pick < 78) {
    const { head, tail } = validMessage(uid, seq);
    return { kind: 'wrong varint header', data: Buffer.concat([Buffer.from([randomInt(1, 8)]), head, tail]), reason: 'malformed', outcome: 'reply' };
  }
  if (pick < 81) return { kind: 'empty frame', data: Buffer.alloc(0), reason: 'malformed', outcome: 'reply' };
  if (pick < 92) return { kind: 'text frame', data: `{"instance_uid":"${uid.toString('hex')}"}`, reason: 'malformed', outcome: 'reply' };
  return { kind: 'oversize', data: header(randomBytes(maxMessageBytes + randomInt(1, 4096))), reason: 'oversize', outcome: 'close', closeCode: 1009 };
}

let bomb: Buffer | undefined;
/** A gzip bomb: 64 members of 16 MiB of zeros each (1 GiB inflated) in about 1 MB. */
export function gzipBomb(): Buffer {
  if (!bomb) {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
  }
  return bomb;
}

/** The kinds of bad HTTP bodies, in the proportions of the fuzz run. */
export function badHttpBody(seq: number, maxMessageBytes: number): HttpBadBody {
  const pick = randomInt(0, 100);
  const proto = { 'content-type': PROTOBUF };
  const uid = randomBytes(16);
  if (pick < 25) return { kind: 'random bytes', body: randomPayload(), headers: proto, reason: 'malformed', status: 400 };
  if (pick < 40) return { kind: 'truncated', body: truncated(uid, seq), headers: proto, reason: 'malformed', status: 400 };
  if (pick < 55) return { kind: 'bit-flipped', body: bitFlipped(uid, seq), headers: proto, reason: 'malformed', status: 400 };
  if (pick < 65) return { kind: 'field-mutated (instance_uid length)', body: wrongUidLength(seq), headers: proto, reason: 'malformed', status: 400 };
  if (pick < 72) return { kind: 'oversize', body: randomBytes(maxMessageBytes + randomInt(1, 4096)), headers: proto, reason: 'oversize', status: 413 };
  if (pick < 77) return { kind: 'compressed bomb', body: gzipBomb(), headers: { ...proto, 'content-encoding': 'gzip' }, reason: 'oversize', status: 413 };
  if (pick < 85) return { kind: 'broken gzip', body: randomBytes(randomInt(1, 512)), headers: { ...proto, 'content-encoding': 'gzip' }, reason: 'malformed', status: 400 };
  if (pick < 90) return { kind: 'unknown content-encoding', body: randomBytes(64), headers: { ...proto, 'content-encoding': 'br' }, reason: 'malformed', status: 400 };
  return { kind: 'wrong content-type', body: randomBytes(64), headers: { 'content-type': 'application/json' }, reason: 'malformed', status: 415 };
}
