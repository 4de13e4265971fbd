export { onStopSignals, InFlightRequests, closeHttpServer, sleep } from './stop-signals';
