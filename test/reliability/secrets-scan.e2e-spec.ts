import { mintToken } from '@ampora/platform';
import { secretsInOutput } from './support/secrets';

/** The scan the other reliability files run over every line their processes logged finds what it must. */
describe('reliability: the secrets scan', () => {
  it('finds token secrets, private keys, passwords in URLs and known secrets, and passes masked ones', () => {
    const pat = mintToken('amp-pat');
    const bs = mintToken('amp-bs');
    const master = 'c2VjcmV0LW1hc3Rlci1rZXktb2YtMzItYnl0ZXMhIQ==';
    const found = secretsInOutput(
      [
        `{"message":"token ${pat}"}`,
        `{"Token":"${bs.split('.').slice(0, 2).join('.')}"}`,
        '-----BEGIN EC PRIVATE KEY-----',
        'postgres://ampora:hunter2@db:5432/ampora',
        `key=${master}`,
      ],
      [master],
    ).map((h) => h.what);
    expect(found).toEqual(['token secret', 'token secret', 'private key', 'password in a URL', 'known secret']);
    expect(secretsInOutput(['postgres://ampora:****@db:5432/ampora', 'amp-pat.…', '{"Fingerprint":"ab12"}'], [master])).toEqual([]);
  });
});
