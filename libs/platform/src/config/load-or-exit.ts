import { AmporaConfig, ConfigSection, ConfigValidationError, loadConfig } from './ampora-config';

/** For process entry points: a bad configuration prints every problem and exits with status 78. `sections`: every lib's (the apps compose them). */
export function loadConfigOrExit(env: Readonly<Record<string, string | undefined>>, sections: readonly ConfigSection[]): AmporaConfig {
  try {
    return loadConfig(env, sections);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`ampora: ${error.message}\n`);
      process.stdout.write(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: 'Critical',
          category: 'Ampora.Platform.Config',
          message: 'Refusing to start: {Problems}',
          Problems: error.issues.map((i) => `${i.variable} ${i.problem}`),
        }) + '\n',
      );
      process.exit(78);
    }
    throw error;
  }
}
