import 'reflect-metadata';

export * from './errors';
export * from './events';
export * from './github';
export * from './help';
export * from './llm';
export * from './machines';
export * from './messages';
export * from './overview';
export * from './pagination';
export * from './people';
export * from './rpc';
export * from './subjects';
export * from './tasks';
export * from './validation';
export * from './edges';
export * from './visor';
