// Administration: users (add with a one-time activation code, roles within a scope, disable,
// reset password / TOTP) and service tokens (create — shown once — and revoke), over the admin API.

import { api } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table, toast, when } from '../dom.js';

const ROLES = ['ops', 'qa', 'receiving', 'analyst', 'auditor', 'partner_uploader', 'partner_viewer', 'integration', 'admin'];

const dim = (v) => (v === '*' || (Array.isArray(v) && v.includes('*')) ? '*' : Array.isArray(v) ? v.join(', ') : String(v ?? ''));
const scopeText = (s) => (dim(s.sites) === '*' && dim(s.materials) === '*' && dim(s.partners) === '*' ? 'everything' : `sites ${dim(s.sites)}; materials ${dim(s.materials)}; partners ${dim(s.partners)}`);
const list = (v) => (v.trim() ? v.split(',').map((x) => x.trim()).filter(Boolean) : '*');

/** A secret shown once (activation code, token), with what to do with it. */
function once(title, value, hint) {
  return h('div.card.once', { role: 'status' }, h('strong', title), h('div', h('code.secret#once-value', value)), h('small.muted', hint));
}

const field = (id, label, attrs = {}) => h('div.field', h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
const select = (id, label, options) => h('div.field', h('label', { for: id }, label), h('select', { id, name: id }, options.map(([v, t]) => h('option', { value: v }, t))));

async function act(fn, after) {
  try {
    const r = await fn();
    await after(r);
  } catch (e) {
    toast(e.message, true);
  }
}

export async function adminPage(main) {
  document.title = 'Administration · lotgate';
  const [users, tokens, partners] = await Promise.all([
    app.can('users:manage') ? api('/api/v1/admin/users') : { items: [] },
    app.can('tokens:manage') ? api('/api/v1/admin/tokens') : { items: [] },
    app.can('partners:read') ? api('/api/v1/partners') : { items: [] },
  ]);
  const notice = h('div#admin-notice');
  const reload = () => app.navigate('/admin', true);
  const partnerOptions = [['', '— staff (no partner) —'], ...partners.items.map((p) => [p.id, p.id])];

  const userRows = users.items.map((u) =>
    h(
      'tr',
      { dataset: { user: u.username } },
      h('th', { scope: 'row' }, u.username, h('div.muted', u.displayName)),
      h('td', u.kind, u.partner ? h('div.muted', u.partner) : null),
      h('td', u.roles.length ? u.roles.map((r) => h('div', h('strong', r.role), ' ', h('small.muted', scopeText(r.scope)))) : h('span.muted', 'none')),
      h('td', u.mfa === 'totp' ? `TOTP (${u.recoveryCodesLeft} recovery codes)` : h('span.late', 'not set up')),
      h('td', when(u.lastLoginAt) || h('span.muted', 'never')),
      h('td', u.disabled ? h('span.late', 'disabled') : u.locked ? h('span.late', 'locked') : 'active', h('div.muted', `${u.activeSessions} session(s)`)),
      h(
        'td',
        h('div.actions', h('button', {
          type: 'button',
          onclick: () => act(() => api(`/api/v1/admin/users/${encodeURIComponent(u.username)}/state`, { method: 'POST', body: { disabled: !u.disabled } }), reload),
        }, u.disabled || u.locked ? 'Enable' : 'Disable'),
        h('button', {
          type: 'button',
          onclick: () =>
            act(
              () => api(`/api/v1/admin/users/${encodeURIComponent(u.username)}/reset`, { method: 'POST', body: {} }),
              (r) => clear(notice, once(`One-time code for ${r.username}`, r.activationCode, `Give it to ${r.username} over a separate channel; they choose a new password at /activate before ${new Date(r.expiresAt).toLocaleString()}.`)),
            ),
        }, 'Reset password'),
        u.mfa === 'totp'
          ? h('button', {
              type: 'button',
              onclick: () =>
                act(
                  () => api(`/api/v1/admin/users/${encodeURIComponent(u.username)}/reset`, { method: 'POST', body: { totp: true } }),
                  (r) => clear(notice, once(`One-time code for ${r.username} (password and authenticator reset)`, r.activationCode, 'They choose a password at /activate and set up the authenticator at their next sign-in.')),
                ),
            }, 'Reset TOTP')
          : null,
      )),
    ),
  );

  const addUser = h(
    'form.filters#add-user',
    { 'aria-label': 'Add a user' },
    field('u-name', 'User name', { required: true, size: 12 }),
    field('u-display', 'Printed name', { required: true, size: 18 }),
    select('u-partner', 'Partner', partnerOptions),
    select('u-role', 'Role', ROLES.map((r) => [r, r])),
    field('u-sites', 'Sites (comma-separated, empty = all)', { size: 12 }),
    field('u-materials', 'Materials (empty = all)', { size: 12 }),
    h('div.field', h('span.label', '\u00a0'), h('button.primary', { type: 'submit' }, 'Add user')),
  );
  addUser.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = addUser.elements;
    const body = { username: f['u-name'].value.trim(), displayName: f['u-display'].value.trim(), role: f['u-role'].value, scope: { sites: list(f['u-sites'].value), materials: list(f['u-materials'].value) } };
    if (f['u-partner'].value) body.partner = f['u-partner'].value;
    act(
      () => api('/api/v1/admin/users', { method: 'POST', body }),
      async (r) => {
        await adminPage(main);
        clear(document.getElementById('admin-notice'), once(`Activation code for ${r.username}`, r.activationCode, `Shown once. Give it to ${r.username} over a separate channel; they choose their password at /activate before ${new Date(r.expiresAt).toLocaleString()}.`));
      },
    );
  });

  const tokenRows = tokens.items.map((t) =>
    h(
      'tr',
      { dataset: { token: t.id } },
      h('th', { scope: 'row' }, t.name, h('div.muted', `${t.prefix}…`)),
      h('td', t.principal),
      h('td', when(t.expiresAt)),
      h('td', t.lastUsedAt ? [when(t.lastUsedAt), h('div.muted', t.lastIp ?? '')] : h('span.muted', 'never')),
      h('td', t.revokedAt ? h('span.muted', 'revoked') : h('button', { type: 'button', onclick: () => act(() => api(`/api/v1/admin/tokens/${t.id}`, { method: 'DELETE' }), reload) }, 'Revoke')),
    ),
  );
  const addToken = h(
    'form.filters#add-token',
    { 'aria-label': 'Create a service token' },
    field('t-name', 'Name', { required: true, size: 14, pattern: '[A-Za-z0-9][A-Za-z0-9._-]*' }),
    field('t-days', 'Valid days', { type: 'number', min: 1, value: 90, required: true }),
    select('t-partner', 'Partner (submission token)', [['', '— none —'], ...partners.items.map((p) => [p.id, p.id])]),
    select('t-role', 'Role (not for partner tokens)', [['integration', 'integration'], ...ROLES.filter((r) => r !== 'integration').map((r) => [r, r])]),
    h('div.field', h('span.label', '\u00a0'), h('button.primary', { type: 'submit' }, 'Create token')),
  );
  addToken.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = addToken.elements;
    const body = { name: f['t-name'].value.trim(), days: Number(f['t-days'].value) };
    if (f['t-partner'].value) body.partner = f['t-partner'].value;
    else body.role = f['t-role'].value;
    act(
      () => api('/api/v1/admin/tokens', { method: 'POST', body }),
      async (r) => {
        await adminPage(main);
        clear(document.getElementById('admin-notice'), once(`Service token ${body.name}`, r.token, `Shown once: store it in the integration's secret store. It expires ${new Date(r.expiresAt).toLocaleString()}.`));
      },
    );
  });

  clear(
    main,
    h('h1', 'Administration'),
    notice,
    app.can('users:manage') ? section('Users', addUser, table(['User', 'Kind', 'Roles and scope', 'Two-factor', 'Last sign-in', 'State', 'Actions'], userRows, { cls: 'users' })) : null,
    app.can('tokens:manage') ? section('Service tokens', addToken, table(['Token', 'Account', 'Expires', 'Last used', 'Action'], tokenRows, { empty: 'No service tokens.' })) : null,
    app.can('partners:manage') ? partnersSection(partners, reload, notice) : null,
  );
}

const MODES = ['review', 'shadow', 'live'];

/** Partners: their mode (review → shadow → live) and SFTP keys, over /api/v1/admin/partners (audited). */
function partnersSection(partners, reload, notice) {
  const rows = partners.items.map((p) => {
    const mid = `mode-${p.id}`;
    const mode = h('select', { id: mid, name: 'mode' }, MODES.map((m) => h('option', { value: m, selected: m === p.mode || null }, m)));
    mode.addEventListener('change', () =>
      // No reload: the server re-reads partner files every few seconds, so a list fetched at once could still show the old mode.
      act(() => api(`/api/v1/admin/partners/${encodeURIComponent(p.id)}/mode`, { method: 'POST', body: { mode: mode.value } }), () => {
        toast(`${p.id} is now in ${mode.value} mode`);
      }),
    );
    const kid = `key-${p.id}`;
    const keyForm = h('form.add-key', h('label', { for: kid }, 'SFTP public key (OpenSSH line)'), h('textarea', { id: kid, name: 'publicKey', rows: 2, required: true }), h('button', { type: 'submit' }, 'Add key'));
    keyForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(() => api(`/api/v1/admin/partners/${encodeURIComponent(p.id)}/keys`, { method: 'POST', body: { publicKey: keyForm.elements.publicKey.value.trim() } }), (r) => {
        clear(notice, h('div.card', { role: 'status' }, h('strong', `Key added for ${p.id}`), ' ', h('code#key-fingerprint', r.fingerprint ?? '')));
      });
    });
    return h('tr', { dataset: { partner: p.id } },
      h('th', { scope: 'row' }, p.id), h('td', p.name ?? ''), h('td', p.role),
      h('td', h('label.sr-only', { for: mid }, `Mode of ${p.id}`), mode),
      h('td', (p.feeds ?? []).join(', ')),
      h('td', h('details', h('summary', 'Keys…'), keyForm), app.can('mappings:test') ? h('a', { href: `/mappings/${encodeURIComponent(p.id)}` }, 'mappings') : ''));
  });
  const add = h('form.filters#add-partner', { 'aria-label': 'Add a partner' },
    field('p-id', 'Partner id', { required: true, pattern: '[a-z0-9][a-z0-9-]*' }),
    field('p-name', 'Partner name', { required: true }),
    select('p-role', 'Partner role', [['cmo', 'cmo'], ['lab', 'lab'], ['erp', 'erp'], ['qms', 'qms']]),
    select('p-mode', 'Start in mode', MODES.map((m) => [m, m])),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Add partner')));
  add.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const e = add.elements;
    act(() => api('/api/v1/admin/partners', { method: 'POST', body: { id: e['p-id'].value.trim(), name: e['p-name'].value.trim(), role: e['p-role'].value, mode: e['p-mode'].value } }), () => {
      toast('Partner added');
      return reload();
    });
  });
  return section('Partners', add, table(['Partner', 'Name', 'Role', 'Mode', 'Feeds', 'Keys and mappings'], rows, { cls: 'partners', empty: 'No partners.' }));
}
