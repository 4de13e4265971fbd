export * from './http-telemetry.middleware';
export * from './id-param.dto';
export * from './zod-types';
export * from './edge-validation';
export * from './json-bodies.middleware';
export * from './json-body';
