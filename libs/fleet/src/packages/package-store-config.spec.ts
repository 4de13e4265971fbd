import { AmporaConfig, loadConfig } from '@ampora/platform';
import { FLEET_CONFIG_SECTION } from '../fleet.config';

const load = (env: Record<string, string>) => loadConfig({ AMPORA_BACKPLANE: 'inprocess', ...env }, [FLEET_CONFIG_SECTION]) as AmporaConfig;

describe('the package store configuration (decision 0377)', () => {
  it('is the data directory by default, a bucket with AMPORA_PACKAGES_STORE=s3', () => {
    expect(load({}).fleet.packages.store).toEqual({ kind: 'file' });
    expect(
      load({
        AMPORA_PACKAGES_STORE: 's3',
        AMPORA_PACKAGES_S3_BUCKET: 'pkgs',
        AMPORA_PACKAGES_S3_ENDPOINT: 'http://127.0.0.1:9000',
        AMPORA_PACKAGES_S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
        AMPORA_PACKAGES_S3_FORCE_PATH_STYLE: 'true',
      }).fleet.packages.store,
    ).toEqual({ kind: 's3', bucket: 'pkgs', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: undefined, forcePathStyle: true, prefix: 'ampora-packages' });
  });

  it('refuses a bucket store without a bucket, half an access key, or an unknown kind, never showing a secret', () => {
    expect(() => load({ AMPORA_PACKAGES_STORE: 's3' })).toThrow(/AMPORA_PACKAGES_S3_BUCKET/);
    expect(() => load({ AMPORA_PACKAGES_STORE: 'gcs' })).toThrow(/AMPORA_PACKAGES_STORE/);
    let message = '';
    try {
      load({ AMPORA_PACKAGES_STORE: 's3', AMPORA_PACKAGES_S3_BUCKET: 'b', AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-never-shown' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/AMPORA_PACKAGES_S3_ACCESS_KEY_ID/);
    expect(message).not.toContain('wJalrXUtnFEMI');
  });
});
