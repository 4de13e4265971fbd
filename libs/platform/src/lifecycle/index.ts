export { onStopSignals, InFlightRequests, closeHttpServer, sleep } from './stop-signals';
export { startListening } from './listen';
