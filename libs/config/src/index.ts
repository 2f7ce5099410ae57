import 'reflect-metadata';

export * from './load-config';
