/**
 * OpAMP WebSocket framing: every binary message is a varint header (value 0 in the current
 * specification, so the single byte 0x00) followed by the protobuf message. Clients from before the
 * header existed send the protobuf alone. A protobuf message never starts with 0x00 (field 0 does not
 * exist), so the first byte tells the two forms apart. A frame whose first byte is 0x01–0x07 (a
 * non-zero header, or field 0) fails protobuf decoding and is rejected as malformed.
 */
export type FrameDecodeResult = { ok: true; payload: Uint8Array; header: boolean } | { ok: false; reason: string };

export function decodeWsFrame(data: Uint8Array): FrameDecodeResult {
  if (data.length === 0) return { ok: false, reason: 'empty frame' };
  if (data[0] === 0x00) return { ok: true, payload: data.subarray(1), header: true };
  return { ok: true, payload: data, header: false };
}

/** Prefixes a protobuf message with the header, which Ampora always sends. */
export function encodeWsFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 1);
  frame[0] = 0x00;
  frame.set(payload, 1);
  return frame;
}
