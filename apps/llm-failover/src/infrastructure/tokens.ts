/** Nest injection tokens of llm-failover's infrastructure. */
export const NATS = Symbol('NATS');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const CHAIN = Symbol('CHAIN');
export const SCHEMA = 'llm';
