export * from './eventually';
export * from './present';
export * from './service-process';
export * from './test-hub';
export * from './cli';
export * from './fake-llm-provider';
export * from './fake-github';
export * from './fake-agent-cli';
