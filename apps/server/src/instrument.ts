// First import of the server: validate the configuration and start OpenTelemetry before Nest loads.
import { loadConfigOrExit, startTelemetry } from '@ampora/platform';

export const config = loadConfigOrExit();
startTelemetry(config, 'server');
