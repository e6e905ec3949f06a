// `lotgate start` / `lotgate status` as a separate process, built from the compiled command
// definitions (dist/) exactly as bin/lotgate.js mounts them.
import { Command, CommanderError } from 'commander';
import { registerServerCommands } from '../../../dist/pipeline/cli/server-commands.js';
import { reportError } from '../../../dist/pipeline/cli/context.js';

const program = new Command('lotgate')
  .option('-c, --config <file>', 'configuration file')
  .option('-d, --data-dir <dir>', 'data directory')
  .exitOverride();
registerServerCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = err instanceof CommanderError ? err.exitCode : reportError(err);
}
