export * from './nats-server';
export * from './ports';
export * from './postgres';
export * from './programs';
export * from './throwaway-postgres';
