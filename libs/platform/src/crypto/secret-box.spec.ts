import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { masterKeyId, resolveMasterKeys, SecretBox } from './secret-box';

describe('SecretBox', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);

  it('seals with AES-256-GCM and opens with the same key and context', () => {
    const box = new SecretBox({ current: a, source: 'config' });
    const secret = Buffer.from('a private key, say');
    const sealed = box.seal(secret, 'row:1');
    expect(sealed.includes(secret)).toBe(false);
    expect(SecretBox.keyIdOf(sealed)).toBe(masterKeyId(a));
    expect(box.open(sealed, 'row:1')).toEqual({ plaintext: secret, stale: false });
  });

  it('refuses another context (a value moved to another row) and a flipped bit', () => {
    const box = new SecretBox({ current: a, source: 'config' });
    const sealed = box.seal(Buffer.from('x'), 'row:1');
    expect(() => box.open(sealed, 'row:2')).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => box.open(tampered, 'row:1')).toThrow();
  });

  it('opens values of the previous master key and says they are stale; refuses unknown keys', () => {
    const old = new SecretBox({ current: a, source: 'config' }).seal(Buffer.from('x'), 'c');
    const rotated = new SecretBox({ current: b, previous: a, source: 'config' });
    expect(rotated.open(old, 'c')).toEqual({ plaintext: Buffer.from('x'), stale: true });
    expect(rotated.open(rotated.seal(Buffer.from('y'), 'c'), 'c').stale).toBe(false);
    const stranger = new SecretBox({ current: b, source: 'config' });
    expect(() => stranger.open(old, 'c')).toThrow(/neither AMPORA_MASTER_KEY nor AMPORA_PREVIOUS_MASTER_KEY/);
  });
});

describe('resolveMasterKeys', () => {
  it('uses AMPORA_MASTER_KEY when set, and otherwise a generated key file (0600) that stays the same', () => {
    const configured = randomBytes(32);
    const base = { security: { masterKey: configured }, storage: { dataDir: '/nonexistent' } } as never;
    expect(resolveMasterKeys(base)).toMatchObject({ current: configured, source: 'config' });

    const dir = mkdtempSync(join(tmpdir(), 'ampora-mk-'));
    const dev = { security: {}, storage: { dataDir: dir } } as never;
    const keys = resolveMasterKeys(dev);
    expect(keys.source).toBe('file');
    const file = join(dir, 'master.key');
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(keys.current)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(resolveMasterKeys(dev).current.equals(keys.current)).toBe(true);
  });
});
