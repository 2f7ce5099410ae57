export * from './github-client';
