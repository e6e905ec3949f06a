// The `lotgate` command line. Each command group lives in its own file and is loaded only when
// its command is used (the server and job groups pull in BullMQ, ssh2 and mail libraries that a
// `lotgate lots` should not pay for); `--help` and unknown commands load them all.

import { Command, CommanderError } from 'commander';
import { reportError } from './context.js';

type Register = (program: Command) => void;
type Group = () => Promise<Register>;

const ingest: Group = async () => (await import('./ingest-commands.js')).registerIngestCommands;
const mapping: Group = async () => (await import('./mapping-commands.js')).registerMappingCommands;
const read: Group = async () => (await import('./read-commands.js')).registerReadCommands;
// After the read commands: `submission approve|reject` are subcommands of their `submission`.
const submission: Group = async () => (await import('./submission-commands.js')).registerSubmissionCommands;
const job: Group = async () => (await import('./job-commands.js')).registerJobCommands;
const outbox: Group = async () => (await import('./outbox-commands.js')).registerOutboxCommands;
const server: Group = async () => (await import('./server-commands.js')).registerServerCommands;
const partner: Group = async () => (await import('./partner-commands.js')).registerPartnerCommands;
const demo: Group = async () => (await import('./demo-command.js')).registerDemoCommand;
const bans: Group = async () => (await import('./ban-commands.js')).registerBanCommands;
const config: Group = async () => (await import('./config-commands.js')).registerConfigCommands;
const users: Group = async () => (await import('./user-commands.js')).registerUserCommands;
// After the read commands: `lot dispose` is a subcommand of their `lot`.
const sign: Group = async () => (await import('./sign-commands.js')).registerSignCommands;
const readiness: Group = async () => (await import('./readiness-commands.js')).registerReadinessCommands;
const storeGroup: Group = async () => (await import('./store-commands.js')).registerStoreCommands;

const ALL = [ingest, mapping, read, submission, job, outbox, server, partner, demo, bans, config, users, sign, readiness, storeGroup];
const BY_COMMAND: Record<string, Group[]> = {
  ingest: [ingest],
  replay: [ingest],
  mapping: [mapping],
  lots: [read],
  lot: [read, sign],
  submissions: [read],
  submission: [read, submission],
  audit: [read],
  job: [job],
  outbox: [outbox],
  start: [server],
  status: [server],
  partner: [partner],
  demo: [demo],
  bans: [bans],
  config: [config],
  user: [users],
  token: [users],
  access: [users],
  readiness: [readiness],
  store: [storeGroup],
};

/** The first word that is not an option (or an option's value) names the command. */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c' || a === '--config' || a === '-d' || a === '--data-dir') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

const program = new Command('lotgate')
  .description('lotgate — lot release readiness from your CMOs\' and labs\' files')
  .option('-c, --config <file>', 'configuration file (default ./config.yaml; env LOTGATE_CONFIG)')
  .option('-d, --data-dir <dir>', 'data directory (default ./data; env LOTGATE_DATA_DIR)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

try {
  const word = commandWord(process.argv.slice(2));
  for (const group of (word && BY_COMMAND[word]) || ALL) (await group())(program);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    process.exitCode = reportError(err);
  }
}
