/**
 * The secrets scan of issue 16 §6: every line a process logged is searched for the secrets the suite
 * knows (tokens it created, the master key) and for anything shaped like a secret: a token's
 * secret part, a PEM private key, a password in a connection URL.
 */
const SHAPES: Array<{ what: string; pattern: RegExp }> = [
  // the secret part of a personal access or bootstrap token (32 base32 characters after the prefix)
  { what: 'token secret', pattern: /amp-(?:pat|bs)\.[A-Z2-7]{32}/ },
  { what: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  // user:password@ in a URL, unless the password is masked
  { what: 'password in a URL', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@"]+:(?!\*+@)[^\s@/"]+@/i },
];

export interface SecretHit {
  what: string;
  line: string;
}

export function secretsInOutput(lines: string[], known: string[]): SecretHit[] {
  const hits: SecretHit[] = [];
  const secrets = known.filter((s) => s && s.length >= 12).map((s) => ({ s, secretPart: s.split('.')[1] ?? s }));
  for (const line of lines) {
    for (const { what, pattern } of SHAPES) if (pattern.test(line)) hits.push({ what, line: line.slice(0, 200) });
    for (const { s, secretPart } of secrets) if (line.includes(s) || (secretPart.length >= 16 && line.includes(secretPart))) hits.push({ what: 'known secret', line: line.slice(0, 200) });
  }
  return hits;
}
