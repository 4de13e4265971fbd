export * from './capabilities';
export * from './codec';
export * from './config-hash';
export * from './frame-kind';
export * from './framing';
export * from './instance-uid';
export * from './connection-settings-hash';
