// The `lotgate` command line. Each command group lives in its own file.

import { Command, CommanderError } from 'commander';
import { reportError } from './context.js';
import { registerDemoCommand } from './demo-command.js';
import { registerIngestCommands } from './ingest-commands.js';
import { registerJobCommands } from './job-commands.js';
import { registerMappingCommands } from './mapping-commands.js';
import { registerOutboxCommands } from './outbox-commands.js';
import { registerPartnerCommands } from './partner-commands.js';
import { registerReadCommands } from './read-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerSubmissionCommands } from './submission-commands.js';

const program = new Command('lotgate')
  .description('lotgate — lot release readiness from your CMOs\' and labs\' files')
  .option('-c, --config <file>', 'configuration file (default ./config.yaml; env LOTGATE_CONFIG)')
  .option('-d, --data-dir <dir>', 'data directory (default ./data; env LOTGATE_DATA_DIR)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerIngestCommands(program);
registerMappingCommands(program);
registerReadCommands(program);
// After the read commands: `submission approve|reject` are subcommands of their `submission`.
registerSubmissionCommands(program);
registerJobCommands(program);
registerOutboxCommands(program);
registerServerCommands(program);
registerPartnerCommands(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.exitCode = reportError(err);
  }
}
