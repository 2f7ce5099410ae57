export * from './material';
export * from './server-config';
export * from './tokens';
