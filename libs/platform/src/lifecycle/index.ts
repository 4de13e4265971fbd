export { onStopSignals, InFlightRequests, closeHttpServer, sleep, stopTakingConnections } from './stop-signals';
export { startListening } from './listen';
