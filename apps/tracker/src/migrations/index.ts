import { Initial1764900000000 } from './1764900000000-initial';
import { Checkouts1764900000001 } from './1764900000001-checkouts';
import { Activity1764900000002 } from './1764900000002-activity';
import { GithubIssues1764900000003 } from './1764900000003-github-issues';
import { Plans1764900000004 } from './1764900000004-plans';
import { Errors1764900000005 } from './1764900000005-errors';

/** In order; never edit one that has landed — add a new one. */
export const trackerMigrations = [
  Initial1764900000000,
  Checkouts1764900000001,
  Activity1764900000002,
  GithubIssues1764900000003,
  Plans1764900000004,
  Errors1764900000005,
];
