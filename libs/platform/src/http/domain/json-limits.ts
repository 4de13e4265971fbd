/**
 * The structural limits of a JSON request body, checked on its raw bytes before `JSON.parse` (decision
 * 0130). One pass, constant work per byte, memory bounded by the depth limit: it cannot itself blow up.
 * Pure: no Nest, no I/O.
 */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most object members plus array elements, over the whole body. */
  maxKeys: number;
}

export interface JsonLimitViolation {
  limit: 'depth' | 'keys';
  max: number;
  message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = [0x20, 0x09, 0x0a, 0x0d];

/**
 * The first limit the body exceeds, or undefined. Malformed JSON is not judged here (`JSON.parse`
 * says why afterwards, in time linear in the size the body parser already bounded); the scan only
 * guarantees that whatever it lets through nests at most `maxDepth` deep and holds at most `maxKeys`
 * members and elements.
 */
export function scanJsonLimits(body: Uint8Array, limits: JsonLimits): JsonLimitViolation | undefined {
  let depth = 0;
  let keys = 0;
  let inString = false;
  // per open array: whether it has an element yet (members are counted at their colon)
  const arrayHasElement = new Uint8Array(limits.maxDepth + 1);
  const isArray = new Uint8Array(limits.maxDepth + 1);
  const tooMany = (): JsonLimitViolation => ({ limit: 'keys', max: limits.maxKeys, message: `the JSON body has more than ${limits.maxKeys} members and elements` });
  for (let i = 0; i < body.length; i++) {
    if (inString) {
      // jump to the next quote natively; it closes the string unless an odd run of backslashes
      // precedes it (each run is walked once: it lies between two quotes)
      const q = body.indexOf(QUOTE, i);
      if (q < 0) return undefined;
      let backslashes = 0;
      for (let k = q - 1; k >= i && body[k] === BACKSLASH; k--) backslashes++;
      if (backslashes % 2 === 0) inString = false;
      i = q;
      continue;
    }
    const b = body[i]!;
    if (depth > 0 && isArray[depth] === 1 && arrayHasElement[depth] === 0 && b !== CLOSE_ARRAY && !SPACE.includes(b)) {
      arrayHasElement[depth] = 1;
      if (++keys > limits.maxKeys) return tooMany();
    }
    switch (b) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++depth > limits.maxDepth) return { limit: 'depth', max: limits.maxDepth, message: `the JSON body nests more than ${limits.maxDepth} levels deep` };
        isArray[depth] = b === OPEN_ARRAY ? 1 : 0;
        arrayHasElement[depth] = 0;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth > 0) depth--;
        break;
      case COLON:
        if (++keys > limits.maxKeys) return tooMany();
        break;
      case COMMA:
        if (depth > 0 && isArray[depth] === 1 && ++keys > limits.maxKeys) return tooMany();
        break;
    }
  }
  return undefined;
}
