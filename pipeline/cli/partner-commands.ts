// Partner onboarding: `lotgate partner add|passwd|list`. Partner files stay plain YAML an
// analyst can read and review; these commands only write what is validated, and keep comments.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import YAML from 'yaml';
import { loadPartners, PARTNER_ID, parsePartnerText } from '../config/partners.js';
import { partnerDirs } from '../intake/names.js';
import type { PartnerConfig } from '../model/types.js';
import { parseAuthorizedKey } from '../sftp/keys.js';
import { hashPassword } from '../sftp/passwords.js';
import { configFrom, printJson, UserError } from './context.js';
import { renderTable } from './render.js';

const MIN_PASSWORD = 12;

/** Reads a password without echo from a terminal, or one line from piped stdin (scripts). */
async function readPassword(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(prompt);
    out._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

async function newPassword(): Promise<string> {
  const pw = await readPassword('New password: ');
  if (pw.length < MIN_PASSWORD) throw new UserError(`the password must have at least ${MIN_PASSWORD} characters`, 2);
  if (process.stdin.isTTY && (await readPassword('Repeat it: ')) !== pw) throw new UserError('the passwords differ; nothing changed', 2);
  return pw;
}

function readKeys(files: string[]): string[] {
  return files.map((f) => {
    if (!existsSync(f)) throw new UserError(`no such public key file: ${f}`, 2);
    const line = readFileSync(f, 'utf8').trim().split('\n')[0];
    const parsed = parseAuthorizedKey(line);
    if (!parsed.ok) throw new UserError(`${f}: ${parsed.message}`, 2);
    return line;
  });
}

/** Writes the YAML after validating it exactly as start-up will read it. */
function writePartnerFile(file: string, text: string): PartnerConfig {
  const p = parsePartnerText(text, file);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return p;
}

function list(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function registerPartnerCommands(program: Command): void {
  const partner = program.command('partner').description('Onboard partners: accounts, keys, passwords, folders.');

  partner
    .command('add')
    .description('Create partners/<id>.yaml and the partner\'s drop-zone folders.')
    .argument('<id>', 'partner id: lower case, digits and dashes; also its SFTP user name')
    .requiredOption('--name <name>', 'the partner\'s name, shown to people')
    .requiredOption('--role <role>', 'cmo, lab, erp or qms')
    .option('--mode <mode>', 'live, shadow or review (start new partners in shadow or review)', 'review')
    .option('--key <file.pub>', 'OpenSSH public key file (repeatable)', (v, prev: string[] = []) => [...prev, v])
    .option('--password', 'also set a password (prompted; or one line on stdin)')
    .option('--two-step', 'require key AND password')
    .option('--feeds <names>', 'mapping names under mappings/<id>/ (comma-separated)', list)
    .option('--products <ids>', 'material ids the partner may report on (comma-separated)', list)
    .option('--sites <names>', 'the partner\'s sites (comma-separated)', list)
    .action(async (id: string, opts: { name: string; role: string; mode: string; key?: string[]; password?: boolean; twoStep?: boolean; feeds?: string[]; products?: string[]; sites?: string[] }, cmd: Command) => {
      const config = configFrom(cmd);
      if (!PARTNER_ID.test(id)) throw new UserError(`"${id}" is not a valid partner id: use lower case letters, digits and dashes (2–63 characters)`, 2);
      const file = path.join(config.partnersDir, `${id}.yaml`);
      if (existsSync(file)) throw new UserError(`${file} exists already; edit it, or use \`lotgate partner passwd ${id}\``, 2);
      const keys = readKeys(opts.key ?? []);
      if (!keys.length && !opts.password) throw new UserError('give the partner a way to log in: --key <file.pub> and/or --password', 2);
      if (opts.twoStep && (!keys.length || !opts.password)) throw new UserError('--two-step needs both --key and --password', 2);
      const sftp: Record<string, unknown> = {};
      if (keys.length) sftp.publicKeys = keys;
      if (opts.password) sftp.passwordHash = hashPassword(await newPassword());
      if (opts.twoStep) sftp.twoStep = true;
      const doc = new YAML.Document({
        id,
        name: opts.name,
        role: opts.role,
        mode: opts.mode,
        sites: opts.sites ?? [],
        products: opts.products ?? [],
        feeds: opts.feeds ?? [],
        sftp,
      });
      doc.commentBefore = ` Partner ${opts.name}, added with \`lotgate partner add\`. Fields: see docs/onboarding.md.`;
      const p = writePartnerFile(file, doc.toString({ lineWidth: 0 }));
      const dirs = partnerDirs(config.dropDir, id);
      mkdirSync(dirs.inbound, { recursive: true });
      mkdirSync(dirs.outbound, { recursive: true });
      process.stdout.write(`created ${file} (${p.role}, mode ${p.mode}) and ${dirs.inbound}, ${dirs.outbound}\n`);
      if (!p.feeds.length) process.stdout.write(`next: write mappings/${id}/<feed>.yaml, list it under feeds:, then \`lotgate mapping check ${id}\`\n`);
    });

  partner
    .command('passwd')
    .description('Set or replace a partner\'s SFTP password (stored as an scrypt hash; comments in the file are kept).')
    .argument('<id>', 'partner id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const config = configFrom(cmd);
      const file = path.join(config.partnersDir, `${id}.yaml`);
      if (!existsSync(file)) throw new UserError(`no partner "${id}" (${file})`, 2);
      const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
      doc.setIn(['sftp', 'passwordHash'], hashPassword(await newPassword()));
      writePartnerFile(file, doc.toString({ lineWidth: 0 }));
      process.stdout.write(`password of ${id} changed; it applies to the next login (no restart needed)\n`);
    });

  partner
    .command('list')
    .description('The configured partners.')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const partners = [...loadPartners(configFrom(cmd).partnersDir).values()];
      if (opts.json) return printJson(partners.map(({ sftp, ...p }) => ({ ...p, sftp: { keys: sftp?.publicKeys?.length ?? 0, password: !!sftp?.passwordHash, twoStep: !!sftp?.twoStep } })));
      process.stdout.write(
        renderTable(
          ['ID', 'ROLE', 'MODE', 'LOGIN', 'FEEDS', 'NAME'],
          partners.map((p) => [p.id, p.role, p.mode, [p.sftp?.publicKeys?.length ? `${p.sftp.publicKeys.length} key(s)` : '', p.sftp?.passwordHash ? 'password' : '', p.sftp?.twoStep ? 'two-step' : ''].filter(Boolean).join(' + '), p.feeds.join(','), p.name]),
        ),
      );
    });
}
