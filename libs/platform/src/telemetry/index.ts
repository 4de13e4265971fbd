export * from './sdk';
export * from './tracing';
export * from './catalogue';
