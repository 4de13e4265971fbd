import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** SHA-256 of the DER, lower-case hex (how Ampora identifies agents). */
  fingerprint: string;
}

export interface TestPki {
  dir: string;
  caCert: Buffer;
  caCertFile: string;
  server: TestCertificate;
  issue(commonName: string, options?: { days?: number; san?: string }): TestCertificate;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA made with the openssl CLI (a tool independent of the code under test). */
export function makeTestPki(name = 'Test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ampora-pki-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`], dir);
  let serial = 1;
  const issue = (commonName: string, options: { days?: number; san?: string } = {}): TestCertificate => {
    const base = `${commonName.replace(/[^a-z0-9]/gi, '_')}-${serial++}`;
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${commonName}`], dir);
    const ext = join(dir, `${base}.ext`);
    writeFileSync(ext, options.san ? `subjectAltName=${options.san}\n` : 'basicConstraints=CA:FALSE\n');
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial * 1000), '-out', `${base}.crt`, '-days', String(options.days ?? 1), '-extfile', ext], dir);
    const cert = readFileSync(join(dir, `${base}.crt`));
    return {
      certFile: join(dir, `${base}.crt`),
      keyFile: join(dir, `${base}.key`),
      cert,
      key: readFileSync(join(dir, `${base}.key`)),
      fingerprint: createHash('sha256').update(new X509Certificate(cert).raw).digest('hex'),
    };
  };
  const server = issue('localhost', { san: 'IP:127.0.0.1,DNS:localhost' });
  return { dir, caCert: readFileSync(join(dir, 'ca.crt')), caCertFile: join(dir, 'ca.crt'), server, issue };
}
