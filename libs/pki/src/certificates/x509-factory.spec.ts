import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { keyIdOf, sha256Hex, toPem } from './x509-factory';

describe('x509 helpers', () => {
  it('computes the RFC 5280 key identifier: SHA-1 of the subjectPublicKey bits', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    // a P-256 SPKI ends with the 65-byte uncompressed point, the content of the BIT STRING
    expect(keyIdOf(spki)).toBe(createHash('sha1').update(spki.subarray(spki.length - 65)).digest('hex'));
  });

  it('writes PEM from a Buffer that is a view into a larger one (only its own bytes)', () => {
    const der = Buffer.from('3003020101', 'hex');
    const pool = Buffer.concat([Buffer.from('ffffffff', 'hex'), der, Buffer.from('eeee', 'hex')]);
    const view = pool.subarray(4, 4 + der.length);
    const pem = toPem(view, 'TEST');
    expect(pem).toBe(`-----BEGIN TEST-----\n${der.toString('base64')}\n-----END TEST-----\n`);
    expect(sha256Hex(view)).toBe(createHash('sha256').update(der).digest('hex'));
  });

  it('wraps long PEM bodies at 64 characters so openssl and Node read them', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const pem = toPem(spki, 'PUBLIC KEY');
    expect(pem.split('\n').length).toBeGreaterThan(5);
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
    expect(createPublicKey(pem).export({ type: 'spki', format: 'der' }).equals(spki)).toBe(true);
  });
});
