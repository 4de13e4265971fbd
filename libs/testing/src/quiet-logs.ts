import { configureLogging } from '@ampora/platform';

// Tests keep stdout for jest; log lines are discarded unless a test captures them
// (captureLogs) or LOG_TO_STDOUT=1 asks to see them.
if (process.env.LOG_TO_STDOUT !== '1') configureLogging({ sink: () => undefined });
