import { Github1764300000000 } from './1764300000000-github';
import { LinkProblem1764700000000 } from './1764700000000-link-problem';

/** In order; never edit one that has landed — add a new one. */
export const githubBotMigrations = [Github1764300000000, LinkProblem1764700000000];
