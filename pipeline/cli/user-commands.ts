// Identities for the HTTP API: `lotgate user …`, `lotgate token …`, `lotgate access review`.
// The CLI runs on the server with the operator's rights; every change is audited as
// `cli:<os user>`. No command sets another person's password: `user add` and `user reset`
// print a one-time code with which the user chooses the password (`user activate` or the API).

import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AuthError, AuthService } from '../auth/service.js';
import { toCsv } from '../read/csv.js';
import { parseScopeDim, type Scope } from '../store/scope.js';
import { printJson, UserError, withLotgate } from './context.js';
import { renderTable } from './render.js';
import type { Lotgate } from '../lotgate.js';

const actor = () => `cli:${os.userInfo().username}`;

async function readSecret(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

async function withAuth<T>(cmd: Command, fn: (auth: AuthService, lg: Lotgate) => Promise<T> | T): Promise<T> {
  return withLotgate(cmd, async (lg) => {
    try {
      return await fn(new AuthService(lg.store, lg.config, lg.now), lg);
    } catch (err) {
      if (err instanceof AuthError) throw new UserError(`${err.code}: ${err.message}`, err.status === 404 ? 4 : 2);
      throw err;
    }
  });
}

function scopeOf(o: { site?: string; material?: string; partner?: string }): Scope {
  return { sites: parseScopeDim(o.site), materials: parseScopeDim(o.material), partners: parseScopeDim(o.partner) };
}

const fmtDim = (d: Scope['sites']) => (d === '*' ? '*' : d.join(','));
const fmtScope = (s: Scope) => `site=${fmtDim(s.sites)} material=${fmtDim(s.materials)} partner=${fmtDim(s.partners)}`;

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('Users of the HTTP API: add, roles, reset, disable, list.');
  user
    .command('add')
    .description('Add a user; prints a one-time code with which the user sets the password (lotgate user activate, or POST /api/v1/auth/password).')
    .argument('<username>')
    .requiredOption('--name <display name>', 'printed name (shown on signatures)')
    .option('--email <email>')
    .option('--partner <id>', 'a partner user, bound to this one partner')
    .option('--role <role>', 'grant this role at once (see lotgate user role)')
    .option('--site <list>', "scope of --role: sites, comma-separated, or '*'", '*')
    .option('--material <list>', "scope of --role: materials or product families, or '*'", '*')
    .option('--json', 'print JSON')
    .action(async (username: string, o: { name: string; email?: string; partner?: string; role?: string; site?: string; material?: string; json?: boolean }, cmd: Command) => {
      const out = await withAuth(cmd, async (auth, lg) => {
        if (o.partner && !lg.partners().has(o.partner)) throw new UserError(`no partner "${o.partner}" is configured (see lotgate partner list)`, 2);
        const p = await auth.addUser({ username, displayName: o.name, email: o.email, kind: o.partner ? 'partner_user' : 'user', partner: o.partner }, actor());
        if (o.role) await auth.grant(username, o.role, scopeOf({ ...o, partner: o.partner ?? '*' }), actor());
        const reset = await auth.issueReset(username, actor());
        return { id: p.id, username, activationCode: reset.code, expiresAt: reset.expiresAt };
      });
      if (o.json) return printJson(out);
      process.stdout.write(`user ${username} added (id ${out.id}).\nOne-time activation code (give it to the user; valid until ${out.expiresAt}):\n  ${out.activationCode}\nThe user runs: lotgate user activate ${username}   (or POST /api/v1/auth/password)\n`);
    });

  user
    .command('activate')
    .description('Choose your password with the one-time code from `user add` / `user reset`.')
    .argument('<username>')
    .option('--code <code>', 'the one-time code (else prompted)')
    .action(async (username: string, o: { code?: string }, cmd: Command) => {
      const code = o.code ?? (await readSecret('One-time code: '));
      const pw = await readSecret('New password: ');
      await withAuth(cmd, (auth) => auth.completeReset(username, code.trim(), pw));
      process.stdout.write(`password set for ${username}; log in and enrol TOTP (POST /api/v1/auth/login, then /api/v1/auth/totp/enrol)\n`);
    });

  user
    .command('reset')
    .description('Reset a password (and optionally TOTP): the old one stops working, a one-time code is printed.')
    .argument('<username>')
    .option('--totp', 'also remove the TOTP enrolment (lost phone); the user enrols again at the next login')
    .option('--json', 'print JSON')
    .action(async (username: string, o: { totp?: boolean; json?: boolean }, cmd: Command) => {
      const out = await withAuth(cmd, async (auth) => {
        if (o.totp) await auth.resetTotp(username, actor());
        return auth.issueReset(username, actor());
      });
      if (o.json) return printJson({ username, activationCode: out.code, expiresAt: out.expiresAt });
      process.stdout.write(`password of ${username} reset. One-time code (valid until ${out.expiresAt}):\n  ${out.code}\n`);
    });
  // `passwd` is the name the issue uses; it is the same safe reset.
  user
    .command('passwd')
    .description('Same as `user reset`: issues a one-time code; nobody but the user learns the new password.')
    .argument('<username>')
    .option('--json', 'print JSON')
    .action(async (username: string, o: { json?: boolean }, cmd: Command) => {
      const out = await withAuth(cmd, (auth) => auth.issueReset(username, actor()));
      if (o.json) return printJson({ username, activationCode: out.code, expiresAt: out.expiresAt });
      process.stdout.write(`password of ${username} reset. One-time code (valid until ${out.expiresAt}):\n  ${out.code}\n`);
    });

  user
    .command('role')
    .description("Grant (or --remove) a role, scoped by site × material/product family × partner ('*' = all).")
    .argument('<username>')
    .argument('<role>', 'admin, ops, qa, receiving, analyst, auditor, partner_uploader, partner_viewer, integration')
    .option('--site <list>', "sites, comma-separated, or '*'", '*')
    .option('--material <list>', "materials or product families, or '*'", '*')
    .option('--partner <list>', "partners, or '*'", '*')
    .option('--remove', 'remove every binding of this role instead')
    .option('--json', 'print JSON')
    .action(async (username: string, role: string, o: { site?: string; material?: string; partner?: string; remove?: boolean; json?: boolean }, cmd: Command) => {
      const out = await withAuth(cmd, async (auth) =>
        o.remove ? { removed: await auth.revoke(username, role, actor()) } : { granted: await auth.grant(username, role, scopeOf(o), actor()) },
      );
      if (o.json) return printJson({ username, role, ...out });
      process.stdout.write('removed' in out ? `${out.removed} binding(s) of ${role} removed from ${username}\n` : out.granted ? `${username} now holds ${role} (${fmtScope(scopeOf(o))})\n` : `${username} already held that binding\n`);
    });

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(name)
      .description(disabled ? 'Disable a principal: sessions and tokens are revoked at once.' : 'Enable a principal again (also clears a lockout).')
      .argument('<username>')
      .action(async (username: string, _o: unknown, cmd: Command) => {
        await withAuth(cmd, (auth) => auth.setDisabled(username, disabled, actor()));
        process.stdout.write(`${username} ${disabled ? 'disabled' : 'enabled'}\n`);
      });
  }

  user
    .command('logout')
    .description("Revoke every open session of a user.")
    .argument('<username>')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const n = await withAuth(cmd, (auth) => auth.revokeSessions(username, actor()));
      process.stdout.write(`${n} session(s) of ${username} revoked\n`);
    });

  user
    .command('list')
    .description('Every principal with roles, MFA state and last login.')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const rev = await withAuth(cmd, (auth, lg) => auth.accessReview(lg.partners()));
      if (o.json) return printJson(rev.principals);
      process.stdout.write(
        renderTable(
          ['USER', 'KIND', 'NAME', 'MFA', 'STATE', 'LAST LOGIN', 'ROLES'],
          rev.principals.map((p) => [p.username, p.kind + (p.partner ? `:${p.partner}` : ''), p.displayName, p.mfa, p.disabled ? 'disabled' : p.locked ? 'locked' : 'active', p.lastLoginAt ?? '', p.roles.map((r) => `${r.role}(${fmtScope(r.scope)})`).join(' ')]),
        ),
      );
    });

  const token = program.command('token').description('Service tokens (lgt_…) for integrations and partner API submissions.');
  token
    .command('create')
    .description('Create a token; it is printed ONCE. --partner makes a partner\'s submission token.')
    .option('--name <name>', 'what the token is for, e.g. erp-reader')
    .option('--partner <id>', "a partner's submission token (roles partner_uploader + partner_viewer for that partner)")
    .option('--role <role>', 'role of the service account (default integration)')
    .option('--site <list>', "scope: sites or '*'", '*')
    .option('--material <list>', "scope: materials/families or '*'", '*')
    .option('--days <n>', 'days until it expires (mandatory)', (v) => Number.parseInt(v, 10))
    .option('--json', 'print JSON')
    .action(async (o: { name?: string; partner?: string; role?: string; site?: string; material?: string; days?: number; json?: boolean }, cmd: Command) => {
      if (!o.days) throw new UserError('a token must expire: give --days N', 2);
      const name = o.name ?? (o.partner ? `${o.partner}-submissions` : undefined);
      if (!name) throw new UserError('give --name (what the token is for) or --partner', 2);
      const out = await withAuth(cmd, (auth, lg) =>
        auth.createToken({ name, partner: o.partner, role: o.role, scope: scopeOf({ site: o.site, material: o.material }), days: o.days! }, actor(), lg.partners()),
      );
      if (o.json) return printJson(out);
      process.stdout.write(`token ${out.id} for ${out.principal}, expires ${out.expiresAt}. Shown once — store it now:\n  ${out.token}\n`);
    });
  token
    .command('revoke')
    .argument('<id>', 'token id (lotgate token list)', (v) => Number.parseInt(v, 10))
    .option('--json', 'print JSON')
    .action(async (id: number, o: { json?: boolean }, cmd: Command) => {
      const done = await withAuth(cmd, (auth) => auth.revokeToken(id, actor()));
      if (o.json) return printJson({ id, revoked: done });
      process.stdout.write(done ? `token ${id} revoked\n` : `token ${id} was already revoked\n`);
    });
  token
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const list = await withAuth(cmd, (auth) => auth.listTokens());
      if (o.json) return printJson(list);
      process.stdout.write(
        renderTable(
          ['ID', 'PRINCIPAL', 'NAME', 'PREFIX', 'EXPIRES', 'LAST USED', 'LAST IP', 'STATE'],
          list.map((t) => [String(t.id), t.principal, t.name, t.prefix, t.expiresAt, t.lastUsedAt ?? '', t.lastIp ?? '', t.revokedAt ? 'revoked' : 'active']),
        ),
      );
    });

  program
    .command('access')
    .description('Access review.')
    .command('review')
    .description('Every principal with roles, scopes, MFA, last login, tokens; partners\' SFTP keys with fingerprints.')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (one row per role binding / token / key)')
    .action(async (o: { json?: boolean; csv?: boolean }, cmd: Command) => {
      const rev = await withAuth(cmd, (auth, lg) => auth.accessReview(lg.partners()));
      if (o.json) return printJson(rev);
      const rows: unknown[][] = [];
      for (const p of rev.principals) {
        const base = [p.username, p.kind, p.partner ?? '', p.displayName, p.disabled ? 'disabled' : p.locked ? 'locked' : 'active', p.mfa, p.lastLoginAt ?? ''];
        for (const r of p.roles) rows.push([...base, 'role', r.role, fmtScope(r.scope), r.grantedAt, '', '']);
        for (const t of p.tokens) rows.push([...base, 'token', t.name, t.prefix, t.expiresAt, t.lastUsedAt ?? '', t.revoked ? 'revoked' : 'active']);
        if (!p.roles.length && !p.tokens.length) rows.push([...base, 'none', '', '', '', '', '']);
      }
      for (const s of rev.sftp) for (const k of s.keys) rows.push([`partner:${s.partner}`, 'sftp', s.partner, '', 'active', s.password ? 'key+password' : 'key', '', 'sftp_key', k.type, k.fingerprint, '', '', k.comment ?? '']);
      const header = ['principal', 'kind', 'partner', 'name', 'state', 'mfa', 'last_login', 'entry', 'what', 'scope_or_id', 'granted_or_expires', 'last_used', 'status'];
      if (o.csv) return void process.stdout.write(toCsv(header, rows));
      process.stdout.write(renderTable(header.map((h) => h.toUpperCase()), rows.map((r) => r.map((c) => String(c ?? '')))));
    });
}
