export { onStopSignals, InFlightRequests, closeHttpServer, sleep } from './stop-signals';
export { listenWithBacklog } from './listen';
