import { decodeUtf8Text, resolveConfigurationName } from './file-naming';

describe('resolveConfigurationName', () => {
  it('takes the first-line frontmatter comment when there is one', () => {
    expect(resolveConfigurationName('eu/prod.yaml', '# ampora.name: edge-eu-prod\nreceivers: {}\n')).toEqual({ ok: true, name: 'edge-eu-prod', fromFrontmatter: true });
    expect(resolveConfigurationName('a.yaml', '\uFEFF#ampora.name:   spaced name  \r\nx: 1')).toEqual({ ok: true, name: 'spaced name', fromFrontmatter: true });
  });

  it('falls back to the file name without its extension, ignoring frontmatter below the first line', () => {
    expect(resolveConfigurationName('configs/eu/prod.yaml', 'x: 1\n# ampora.name: nope\n')).toEqual({ ok: true, name: 'prod', fromFrontmatter: false });
    expect(resolveConfigurationName('edge.collector.yml', '')).toMatchObject({ name: 'edge.collector' });
    expect(resolveConfigurationName('.hidden', '')).toMatchObject({ name: '.hidden' });
  });

  it('refuses an empty, overlong or control-character name', () => {
    expect(resolveConfigurationName('a.yaml', '# ampora.name:\n')).toMatchObject({ ok: false });
    expect(resolveConfigurationName('a.yaml', `# ampora.name: ${'n'.repeat(201)}\n`)).toMatchObject({ ok: false });
    expect(resolveConfigurationName('a.yaml', '# ampora.name: a\u0007b\n')).toMatchObject({ ok: false });
  });
});

describe('decodeUtf8Text', () => {
  it('decodes UTF-8 text and refuses binary or invalid bytes', () => {
    expect(decodeUtf8Text(Buffer.from('Zürich: 1\n'))).toBe('Zürich: 1\n');
    expect(decodeUtf8Text(Buffer.from([0x61, 0x00, 0x62]))).toBeUndefined();
    expect(decodeUtf8Text(Buffer.from([0xc3, 0x28]))).toBeUndefined();
  });
});
