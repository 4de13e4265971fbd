import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { makeTestPki } from '@ampora/testing';
import { certificateCovers, hostOf, listenerTrust, pemCertificates } from './listener-trust';

describe('what verifies the TLS listener', () => {
  const operator = makeTestPki('Operator');
  const other = makeTestPki('Other');
  const leaf = readFileSync(operator.server.certFile, 'utf8');
  const ca = operator.caCert.toString('utf8');

  it('takes the operator\'s CA file when the listener\'s certificate chains to it', () => {
    expect(listenerTrust(leaf, ca)).toEqual({ trustPem: pemCertificates(ca).join('') });
  });

  it('takes the certificates after the leaf in the listener\'s file when there is no CA file', () => {
    expect(listenerTrust(`${leaf}${ca}`)).toEqual({ trustPem: pemCertificates(ca).join('') });
  });

  it('refuses a leaf alone, or a CA file that does not issue it', () => {
    expect(listenerTrust(leaf)).toEqual({ problem: expect.stringContaining('AMPORA_OPAMP_TLS_CA_FILE') });
    expect(listenerTrust(leaf, other.caCert.toString('utf8'))).toEqual({ problem: expect.stringContaining('does not chain') });
  });

  it('knows the names the listener\'s certificate is valid for', () => {
    const cert = new X509Certificate(leaf);
    expect(certificateCovers(cert, '127.0.0.1')).toBe(true);
    expect(certificateCovers(cert, 'localhost')).toBe(true);
    expect(certificateCovers(cert, 'opamp.example.com')).toBe(false);
    expect(hostOf('127.0.0.1:4320')).toBe('127.0.0.1');
    expect(hostOf('[::1]:4320')).toBe('::1');
    expect(hostOf('opamp.example.com')).toBe('opamp.example.com');
    expect(hostOf(undefined)).toBeUndefined();
  });
});
