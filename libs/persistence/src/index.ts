export * from './database';
export * from './notifications';
export * from './idempotency';
export * from './group-commit';
