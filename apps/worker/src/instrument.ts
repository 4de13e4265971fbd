// First import of the worker: validate the configuration (platform's and every lib's section, composed in
// apps/composition) and start OpenTelemetry before the application is built.
import { startTelemetry } from '@ampora/platform';
import { loadAmporaConfigOrExit } from '../../composition/src/config';

export const config = loadAmporaConfigOrExit();
startTelemetry(config, 'worker');
