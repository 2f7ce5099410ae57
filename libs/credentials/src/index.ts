export * from './material';
export * from './server-config';
export * from './tokens';
export * from './sealed-values';
