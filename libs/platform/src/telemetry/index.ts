export * from './sdk';
export * from './tracing';
export * from './catalogue';
export * from './telemetry.module';
