import { endpointProblem, PEER_NAME, pinFrom } from './peer-rules';

describe('peer rules', () => {
  it('takes only https endpoints without credentials, query or fragment', () => {
    expect(endpointProblem('https://ampora-us.example.com:4323')).toBeUndefined();
    expect(endpointProblem('http://ampora-us.example.com')).toMatch(/https/);
    expect(endpointProblem('https://u:p@ampora-us.example.com')).toMatch(/credentials/);
    expect(endpointProblem('https://ampora-us.example.com/?x=1')).toMatch(/query/);
    expect(endpointProblem('not a url')).toMatch(/not a URL/);
  });

  it('pins a thumbprint as given, and refuses a bad one or none', () => {
    expect(pinFrom({ pinnedThumbprint: 'AB:'.repeat(31) + 'AB' })).toEqual({ thumbprint: 'ab'.repeat(32) });
    expect(pinFrom({ pinnedThumbprint: 'zz' })).toHaveProperty('problem');
    expect(pinFrom({ remoteCertificatePem: 'nope' })).toEqual({ problem: 'remoteCertificatePem is not a PEM certificate' });
    expect(pinFrom({})).toHaveProperty('problem');
  });

  it('names peers like DNS labels', () => {
    expect(PEER_NAME.test('us-region')).toBe(true);
    expect(PEER_NAME.test('US')).toBe(false);
    expect(PEER_NAME.test('-x')).toBe(false);
  });
});
