/** Nest injection tokens of the GitHub bot's infrastructure. */
export const NATS = Symbol('NATS');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
/** The bot's GitHub client, or null when it has no token. */
export const GITHUB = Symbol('GITHUB');
export const SCHEMA = 'github';
