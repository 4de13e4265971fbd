// First import of the worker: validate the configuration and start OpenTelemetry before Nest loads.
import { loadConfigOrExit, startTelemetry } from '@ampora/platform';

export const config = loadConfigOrExit();
startTelemetry(config, 'worker');
