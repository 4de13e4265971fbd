import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/ampora-config';

type CursorModule = typeof import('./cursor-keys');

/** A fresh copy of the module, as another process (another instance of the deployment) has. */
function instance(masterKey: Buffer, previous?: Buffer): CursorModule {
  let mod!: CursorModule;
  jest.isolateModules(() => {
    mod = jest.requireActual<CursorModule>('./cursor-keys');
  });
  const env: Record<string, string> = { DATABASE_URL: 'postgres://x@127.0.0.1/x', AMPORA_MASTER_KEY: masterKey.toString('base64') };
  if (previous) env.AMPORA_PREVIOUS_MASTER_KEY = previous.toString('base64');
  mod.useCursorKeysOf(loadConfig(env));
  return mod;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('list cursors (decision 0141)', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);

  it('a cursor one instance issued opens on another instance with the same master key', () => {
    const cursor = instance(a).signCursor(['tag', '2026-01-01T00:00:00.000Z', 'id']);
    expect(instance(a).openCursor(cursor)).toEqual(['tag', '2026-01-01T00:00:00.000Z', 'id']);
  });

  it('is refused by a deployment with another master key, and after any change', () => {
    const one = instance(a);
    const cursor = one.signCursor([1, 'x']);
    expect(code(() => instance(b).openCursor(cursor))).toBe('INVALID_CURSOR');
    const [body, mac] = cursor.split('.');
    const otherBody = Buffer.from(JSON.stringify([2, 'x'])).toString('base64url');
    expect(code(() => one.openCursor(`${otherBody}.${mac}`))).toBe('INVALID_CURSOR');
    expect(code(() => one.openCursor(`${body}.${mac!.slice(1)}A`))).toBe('INVALID_CURSOR');
    expect(code(() => one.openCursor(Buffer.from(JSON.stringify([1, 'x'])).toString('base64url')))).toBe('INVALID_CURSOR');
    expect(code(() => one.openCursor(''))).toBe('INVALID_CURSOR');
    expect(one.openCursor(cursor)).toEqual([1, 'x']);
  });

  it('cursors of the previous master key still open during a rotation', () => {
    const cursor = instance(a).signCursor(['k']);
    expect(instance(b, a).openCursor(cursor)).toEqual(['k']);
  });
});
