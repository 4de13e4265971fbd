import { mtlsEndpoint } from './mtls-endpoint';

describe('mtlsEndpoint', () => {
  it.each([
    ['wss://opamp.example.com:4321/v1/opamp', 'ws', 'wss://opamp.example.com:4321/v1/opamp'],
    ['wss://opamp.example.com:4321/v1/opamp', 'http', 'https://opamp.example.com:4321/v1/opamp'],
    ['https://opamp.example.com:4321/v1/opamp', 'http', 'https://opamp.example.com:4321/v1/opamp'],
    ['https://opamp.example.com:4321/v1/opamp', 'ws', 'wss://opamp.example.com:4321/v1/opamp'],
    ['WSS://opamp.example.com/v1/opamp', 'http', 'https://opamp.example.com/v1/opamp'],
  ] as const)('offers %s to a %s agent as %s', (url, transport, expected) => {
    expect(mtlsEndpoint(url, transport)).toBe(expected);
  });

  it('leaves an unset URL unset and a URL for an unknown transport as configured', () => {
    expect(mtlsEndpoint(undefined, 'ws')).toBeUndefined();
    expect(mtlsEndpoint('wss://x/v1/opamp', undefined)).toBe('wss://x/v1/opamp');
  });
});
