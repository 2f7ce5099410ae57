/** Nest injection tokens of the registry's infrastructure. */
export const NATS = Symbol('NATS');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const SCHEMA = 'registry';
