import { randomBytes } from 'node:crypto';
import { BackplaneSeal } from './backplane-seal';

describe('BackplaneSeal', () => {
  const key = randomBytes(32);
  const secretConfig = 'exporters:\n  otlp:\n    headers: { api-key: s3cr3t-value }\n';

  it('round-trips and hides the text', () => {
    const seal = new BackplaneSeal(key);
    const sealed = seal.seal(secretConfig);
    expect(sealed.startsWith('s1.')).toBe(true);
    expect(sealed).not.toContain('s3cr3t');
    expect(Buffer.from(sealed.slice(3), 'base64').toString('latin1')).not.toContain('s3cr3t');
    expect(seal.open(sealed)).toBe(secretConfig);
    expect(seal.seal(secretConfig)).not.toBe(sealed); // a fresh IV every time
  });

  it('refuses unsealed messages when a key is configured, and tampered or foreign ones', () => {
    const seal = new BackplaneSeal(key);
    expect(() => seal.open('{"v":1}')).toThrow(/unsealed/);
    const sealed = seal.seal('hello');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => seal.open(`s1.${raw.toString('base64')}`)).toThrow(/did not open/);
    expect(() => new BackplaneSeal(randomBytes(32)).open(sealed)).toThrow(/did not open/);
    expect(() => seal.open('s1.AAAA')).toThrow(/truncated/);
  });

  it('opens messages sealed with the previous key during a rotation', () => {
    const previous = randomBytes(32);
    const old = new BackplaneSeal(previous).seal('before rotation');
    expect(new BackplaneSeal(key, previous).open(old)).toBe('before rotation');
    expect(() => new BackplaneSeal(key).open(old)).toThrow();
  });

  it('passes text through without a key, and refuses sealed text it cannot open', () => {
    const none = new BackplaneSeal();
    expect(none.enabled).toBe(false);
    expect(none.seal('plain')).toBe('plain');
    expect(none.open('plain')).toBe('plain');
    expect(() => none.open(new BackplaneSeal(key).seal('x'))).toThrow(/no AMPORA_MASTER_KEY/);
  });
});
