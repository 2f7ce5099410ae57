import 'reflect-metadata';

import { Command } from 'commander';

import { loadConfigOrExit } from '@waggle/config';
import { WAGGLE_VERSION } from '@waggle/contracts';

import { CliError } from './api-client';
import { CliConfig } from './cli.config';
import { registerAgent } from './commands/agent.command';
import { registerErrors } from './commands/errors.command';
import { registerGithub } from './commands/github.command';
import { registerHelp } from './commands/help.command';
import { registerHooks } from './commands/hooks.command';
import { registerInbox } from './commands/inbox.command';
import { registerInitDeploy } from './commands/init-deploy.command';
import { registerLogs } from './commands/logs.command';
import { registerMachines } from './commands/machines.command';
import { registerProjects } from './commands/projects.command';
import { registerSecrets } from './commands/secrets.command';
import { registerSend } from './commands/send.command';
import { registerSessions } from './commands/sessions.command';
import { registerTasks } from './commands/tasks.command';
import { registerToken } from './commands/token.command';
import { registerUsers } from './commands/users.command';
import { out } from './output';
import { registerUp } from './up/up.command';

// `waggle tasks list | head`: the reader went away, which is not an error of ours. Quietly done.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      process.exit(0);
    }
    throw error;
  });
}

const config = loadConfigOrExit(CliConfig);
const program = new Command('waggle')
  .description('Waggle: one control plane for the AI coding agents on your machines')
  .version(WAGGLE_VERSION);
registerUp(program, config);
registerLogs(program, config);
registerAgent(program, config);
registerMachines(program, config);
registerSend(program, config);
registerInbox(program, config);
registerToken(program, config);
registerUsers(program, config);
registerTasks(program, config);
registerHelp(program, config);
registerGithub(program, config);
registerSessions(program, config);
registerHooks(program, config);
registerProjects(program, config);
registerSecrets(program, config);
registerErrors(program, config);
registerInitDeploy(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CliError) {
    if (error.message) {
      out.error(error.message);
    }
    process.exit(error.exitCode);
  }
  out.error(String((error as Error)?.stack ?? error));
  process.exit(1);
});
