export * from './database';
export * from './idempotency';
