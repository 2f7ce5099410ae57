export * from './database';
export * from './nest-providers';
