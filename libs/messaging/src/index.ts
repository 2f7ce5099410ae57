export * from './codec';
export * from './connection';
export * from './consume';
export * from './rpc';
export * from './settlement';
export * from './streams';
export * from './publish';
export * from './kv';
