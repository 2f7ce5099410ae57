export * from './identity';
export * from './inbox-store';
