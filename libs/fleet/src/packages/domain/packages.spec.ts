import { generateKeyPairSync, sign } from 'node:crypto';
import { allPackagesHash, AssignedPackage, checkDownload, ed25519PublicKey, packageObjectKey, packageStatusesView, signedDownloadUrl, verifiedBy } from './packages';

const key = Buffer.alloc(32, 7);
const pkg = (version: string): AssignedPackage => ({ versionId: '00000000-0000-4000-8000-000000000001', version, type: 'TopLevel', contentHash: 'ab'.repeat(32), signature: '' });

describe('packages (decisions 0331–0332)', () => {
  it('verifies ed25519 signatures over the file against the trusted keys (raw base64 or PEM)', () => {
    const publisher = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const raw = publisher.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    const keys = [ed25519PublicKey(other.publicKey.export({ format: 'pem', type: 'spki' }).toString()), ed25519PublicKey(raw)];
    const file = Buffer.from('the collector');
    expect(verifiedBy(file, sign(null, file, publisher.privateKey), keys)).toBe(1);
    expect(verifiedBy(Buffer.from('the collector, changed'), sign(null, file, publisher.privateKey), keys)).toBe(-1);
    expect(verifiedBy(file, Buffer.alloc(10), keys)).toBe(-1);
    expect(() => ed25519PublicKey('c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it('signs download URLs that expire and cannot be moved to another file or time', () => {
    const hash = 'cd'.repeat(32);
    const url = new URL(signedDownloadUrl('https://ampora.example', key, hash, 1_000_000));
    expect(url.pathname).toBe(`/v1/packages/${hash}`);
    const [exp, sig] = [url.searchParams.get('expires')!, url.searchParams.get('signature')!];
    expect(exp).toBe('1000');
    expect(checkDownload(key, hash, exp, sig, 999_000)).toBe('ok');
    expect(checkDownload(key, hash, exp, sig, 1_000_001)).toBe('expired');
    expect(checkDownload(key, 'ef'.repeat(32), exp, sig, 999_000)).toBe('bad-signature');
    expect(checkDownload(key, hash, '2000', sig, 999_000)).toBe('bad-signature');
    expect(checkDownload(Buffer.alloc(32, 8), hash, exp, sig, 999_000)).toBe('bad-signature');
    expect(checkDownload(key, hash, undefined, undefined, 0)).toBe('bad-signature');
  });

  it('hashes the offered set independently of order, and differently when a version changes', () => {
    const a = allPackagesHash({ x: pkg('1'), y: pkg('2') });
    expect(allPackagesHash({ y: pkg('2'), x: pkg('1') }).equals(a)).toBe(true);
    expect(allPackagesHash({ x: pkg('1'), y: pkg('3') }).equals(a)).toBe(false);
  });

  it('shows the stored statuses as Installed / Installing / Failed with the error', () => {
    const view = packageStatusesView({
      packages: {
        b: { name: 'b', status: 'PackageStatusEnum_InstallFailed', errorMessage: 'signature verification failed', serverOfferedVersion: '2', agentHasHash: Buffer.from([1, 2]).toString('base64') },
        a: { name: 'a', agentHasVersion: '1' },
        c: { status: 'PackageStatusEnum_Installing', downloadDetails: { downloadPercent: 40 } },
      },
      serverProvidedAllPackagesHash: Buffer.from([255]).toString('base64'),
    });
    expect(view).toEqual({
      packages: [
        expect.objectContaining({ name: 'a', state: 'Installed', agentHasVersion: '1', error: null }),
        expect.objectContaining({ name: 'b', state: 'Failed', error: 'signature verification failed', serverOfferedVersion: '2', agentHasHash: '0102' }),
        expect.objectContaining({ name: 'c', state: 'Installing', downloadPercent: 40 }),
      ],
      serverProvidedAllPackagesHash: 'ff',
      error: null,
    });
    expect(packageStatusesView(null)).toBeNull();
  });

  it('names a stored file in a bucket by its content, under the prefix (decision 0377)', () => {
    const hash = 'c3'.repeat(32);
    expect(packageObjectKey('ampora-packages', hash)).toBe(`ampora-packages/sha256/c3/${hash}`);
    expect(packageObjectKey('/a/b//', hash)).toBe(`a/b/sha256/c3/${hash}`);
    expect(packageObjectKey('', hash)).toBe(`sha256/c3/${hash}`);
    expect(() => packageObjectKey('p', '../../etc/passwd')).toThrow(/content hash/);
    expect(() => packageObjectKey('p', 'C3'.repeat(32))).toThrow();
  });
});
