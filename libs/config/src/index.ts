export * from './load-config';
export * from './hub-service.config';
