import { Llm1764100000000 } from './1764100000000-llm';

/** In order; never edit one that has landed — add a new one. */
export const llmFailoverMigrations = [Llm1764100000000];
