import { Github1764300000000 } from './1764300000000-github';

/** In order; never edit one that has landed — add a new one. */
export const githubBotMigrations = [Github1764300000000];
