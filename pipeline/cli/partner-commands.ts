// Partner onboarding: `lotgate partner add|passwd|mode|key|list`. Partner files stay plain YAML
// an analyst can read and review; these commands only write what is validated, and keep
// comments. The file operations are shared with the admin API (config/partner-admin.ts).

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { addPartner, addPartnerKey, MIN_PARTNER_PASSWORD as MIN_PASSWORD, PARTNER_MODES, PartnerAdminError, removePartnerKey, setPartnerMode, setPartnerPassword } from '../config/partner-admin.js';
import { loadPartners } from '../config/partners.js';
import type { AuditAction } from '../codes.js';
import { configFrom, printJson, UserError, withLotgate } from './context.js';
import { renderTable } from './render.js';

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
    return readFileSync(f, 'utf8').trim().split('\n')[0];
  });
}

/** The audit event of a partner change made from the shell (as the admin API writes it). */
async function audit(cmd: Command, action: AuditAction, partner: string, details: Record<string, unknown>): Promise<void> {
  const by = os.userInfo().username;
  await withLotgate(cmd, async (lg) => {
    await lg.store.audit.appendAudit({ actor: `cli:${by}`, action, subject: `partner:${partner}`, details: { by, ...details } });
  });
}

/** Runs a partner-file change, turning its refusals into the CLI's user errors. */
function admin<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PartnerAdminError) throw new UserError(`${err.message} [${err.code}]`, 2);
    throw err;
  }
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
      const keys = readKeys(opts.key ?? []);
      if (!keys.length && !opts.password) throw new UserError('give the partner a way to log in: --key <file.pub> and/or --password', 2);
      if (opts.twoStep && (!keys.length || !opts.password)) throw new UserError('--two-step needs both --key and --password', 2);
      if (existsSync(`${config.partnersDir}/${id}.yaml`)) throw new UserError(`${config.partnersDir}/${id}.yaml exists already; edit it, or use \`lotgate partner passwd ${id}\``, 2);
      const password = opts.password ? await newPassword() : undefined;
      const { partner: p, file, inbound, outbound } = admin(() =>
        addPartner(config, { id, name: opts.name, role: opts.role, mode: opts.mode, publicKeys: keys, password, twoStep: opts.twoStep, feeds: opts.feeds, products: opts.products, sites: opts.sites }),
      );
      const dirs = { inbound, outbound };
      await audit(cmd, 'partner.added', id, { name: p.name, role: p.role, mode: p.mode, keys: keys.length, password: password !== undefined });
      process.stdout.write(`created ${file} (${p.role}, mode ${p.mode}) and ${dirs.inbound}, ${dirs.outbound}\n`);
      if (!p.feeds.length) process.stdout.write(`next: write mappings/${id}/<feed>.yaml, list it under feeds:, then \`lotgate mapping check ${id}\`\n`);
    });

  partner
    .command('passwd')
    .description('Set or replace a partner\'s SFTP password (stored as an scrypt hash; comments in the file are kept).')
    .argument('<id>', 'partner id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const config = configFrom(cmd);
      if (!loadPartners(config.partnersDir).has(id)) throw new UserError(`no partner "${id}" (see \`lotgate partner list\`)`, 2);
      const pw = await newPassword();
      admin(() => setPartnerPassword(config, id, pw));
      await audit(cmd, 'partner.password_set', id, {});
      process.stdout.write(`password of ${id} changed; it applies to the next login (no restart needed)\n`);
    });

  partner
    .command('mode')
    .description('Set a partner\'s onboarding mode: review (files held for approval), shadow (applied, outbox held), live.')
    .argument('<id>', 'partner id')
    .argument('<mode>', PARTNER_MODES.join(', '))
    .action(async (id: string, mode: string, _opts: unknown, cmd: Command) => {
      if (!(PARTNER_MODES as readonly string[]).includes(mode)) throw new UserError(`the mode must be one of ${PARTNER_MODES.join(', ')}`, 2);
      const r = admin(() => setPartnerMode(configFrom(cmd), id, mode));
      await audit(cmd, 'partner.mode_changed', id, { mode });
      process.stdout.write(`${id}: mode ${r.before || '(unset)'} → ${r.partner.mode}; it applies to the next file (no restart needed)\n`);
    });

  const key = partner.command('key').description('A partner\'s SFTP public keys.');
  key
    .command('add')
    .argument('<id>', 'partner id')
    .argument('<file.pub>', 'OpenSSH public key file')
    .action(async (id: string, file: string, _opts: unknown, cmd: Command) => {
      const [line] = readKeys([file]);
      const r = admin(() => addPartnerKey(configFrom(cmd), id, line));
      if (r.added) await audit(cmd, 'partner.key_added', id, { fingerprint: r.fingerprint, added: true });
      process.stdout.write(r.added ? `${id}: key ${r.fingerprint} added\n` : `${id}: key ${r.fingerprint} was there already\n`);
    });
  key
    .command('remove')
    .argument('<id>', 'partner id')
    .argument('<fingerprint>', 'SHA256:… as `lotgate access review` shows it')
    .action(async (id: string, fingerprint: string, _opts: unknown, cmd: Command) => {
      admin(() => removePartnerKey(configFrom(cmd), id, fingerprint));
      await audit(cmd, 'partner.key_removed', id, { fingerprint });
      process.stdout.write(`${id}: key ${fingerprint} removed\n`);
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
