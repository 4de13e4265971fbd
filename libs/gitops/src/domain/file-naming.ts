/**
 * How a tracked file names its configuration: a first-line comment `# ampora.name: <name>`, else the
 * file name without its extension (`configs/eu/prod.yaml` → `prod`).
 */
export const MAX_CONFIGURATION_NAME = 200;

const FRONTMATTER = /^\uFEFF?#\s*ampora\.name:\s*(.*?)\s*$/;

export type NameResolution = { ok: true; name: string; fromFrontmatter: boolean } | { ok: false; reason: string };

export function resolveConfigurationName(path: string, text: string): NameResolution {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const m = FRONTMATTER.exec(firstLine);
  if (m) return checked(m[1]!, true);
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return checked(dot > 0 ? base.slice(0, dot) : base, false);
}

function checked(name: string, fromFrontmatter: boolean): NameResolution {
  if (name.length === 0) return { ok: false, reason: 'the configuration name is empty' };
  if (name.length > MAX_CONFIGURATION_NAME) return { ok: false, reason: `the configuration name is longer than ${MAX_CONFIGURATION_NAME} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, reason: 'the configuration name has control characters' };
  return { ok: true, name, fromFrontmatter };
}

/** The text of a blob when it is UTF-8 text (no NUL, valid encoding); undefined otherwise. */
export function decodeUtf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
