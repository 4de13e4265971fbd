import { ConfigSection, ConfigValidationError, defineConfigSection, loadConfig, PlatformConfig } from './ampora-config';
import { EnvReader } from './env-reader';

/** A lib's section as libs declare theirs (`probe` is no real lib's key, hence the cast). */
const PROBE = defineConfigSection({
  key: 'probe',
  secrets: ['AMPORA_PROBE_SECRET'],
  read: (r: EnvReader, platform: PlatformConfig) => ({ every: r.int('AMPORA_PROBE_EVERY', 7, 1, 10), url: `${platform.app.publicUrl}/probe`, secret: r.base64Key('AMPORA_PROBE_SECRET', 32) }),
} as unknown as ConfigSection) as ConfigSection;

describe('configuration sections (each lib reads its own; the apps compose them)', () => {
  it('reads platform alone without sections, and a section beside it with its defaults', () => {
    expect(Object.keys(loadConfig({}))).not.toContain('probe');
    const config = loadConfig({ AMPORA_PUBLIC_URL: 'https://ampora.example.com' }, [PROBE]) as unknown as Record<string, unknown>;
    expect(config.probe).toEqual({ every: 7, url: 'https://ampora.example.com/probe', secret: undefined });
  });

  it("reports a section's bad variables with platform's in one error, never echoing a section's secret", () => {
    let error: unknown;
    try {
      loadConfig({ AMPORA_HTTP_PORT: 'abc', AMPORA_PROBE_EVERY: '11', AMPORA_PROBE_SECRET: 'c2hvcnQ=' }, [PROBE]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as ConfigValidationError).issues.map((i) => i.variable)).toEqual(['AMPORA_HTTP_PORT', 'AMPORA_PROBE_EVERY', 'AMPORA_PROBE_SECRET']);
    expect((error as Error).message).toContain('"11"');
    expect((error as Error).message).not.toContain('c2hvcnQ=');
  });

  it('refuses two sections under one key, and a section named like a platform section', () => {
    expect(() => loadConfig({}, [PROBE, PROBE])).toThrow(/two configuration sections are named probe/);
    expect(() => loadConfig({}, [{ ...PROBE, key: 'http' } as unknown as ConfigSection])).toThrow(/two configuration sections are named http/);
  });
});
