/** The bot's GitHub client, or null when it has no token. */
export const GITHUB = Symbol('GITHUB');
