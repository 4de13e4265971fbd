import type { DesiredConfig } from '../ports';
import { desiredFromCommand, remoteConfigCommand } from '../dispatch/dispatch-envelope';
import { sharedDesiredConfig } from './shared-desired-config';

const files = (text: string): DesiredConfig['files'] => ({ 'collector.yaml': { contentType: 'text/yaml', body: Buffer.from(text) } });

describe('sharedDesiredConfig', () => {
  it('gives every caller of one hash the same object and decodes its files once', () => {
    const decode = jest.fn(() => files('receivers: {}\n'));
    const first = sharedDesiredConfig('aa11', decode);
    const again = sharedDesiredConfig('aa11', decode);
    expect(again).toBe(first);
    expect(decode).toHaveBeenCalledTimes(1);
    expect(Buffer.from(first.files['collector.yaml']!.body).toString()).toBe('receivers: {}\n');
    const other = sharedDesiredConfig('bb22', () => files('exporters: {}\n'));
    expect(other).not.toBe(first);
    expect(other.hash).toBe('bb22');
  });

  it('is what the dispatch commands of one config decode to, whichever batch carries them', () => {
    const desired = { files: files('processors: {}\n'), hash: 'cc33' };
    const a = desiredFromCommand(remoteConfigCommand(desired, false));
    const b = desiredFromCommand(remoteConfigCommand(desired, true));
    expect(b).toBe(a);
    expect(a.hash).toBe('cc33');
    expect(Buffer.from(a.files['collector.yaml']!.body).toString()).toBe('processors: {}\n');
  });
});
