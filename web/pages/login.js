// Sign-in (password + TOTP code or a recovery code) and TOTP enrolment with recovery codes.

import { api, ApiFailure } from '../api.js';
import { app } from '../app.js';
import { clear, h } from '../dom.js';

function field(id, label, attrs = {}, hint) {
  return h(
    'div.field',
    h('label', { for: id }, label),
    h('input', { id, name: id, ...attrs, 'aria-describedby': hint ? `${id}-hint` : null }),
    hint ? h('small.muted', { id: `${id}-hint` }, hint) : null,
  );
}

export async function loginPage(main) {
  document.title = 'Sign in · lotgate';
  const err = h('p.error', { role: 'alert' });
  const useRecovery = h('input', { type: 'checkbox', id: 'use-recovery' });
  const form = h(
    'form.card.narrow#login-form',
    { novalidate: true },
    h('h1', 'Sign in'),
    field('username', 'User name', { autocomplete: 'username', required: true, autofocus: true }),
    field('password', 'Password', { type: 'password', autocomplete: 'current-password', required: true }),
    field('totp', 'Authentication code', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 }, 'The 6 digits your authenticator app shows. Leave empty on your first sign-in: you set it up next.'),
    h('div.field.inline', useRecovery, h('label', { for: 'use-recovery' }, 'I lost my phone: use a recovery code instead')),
    field('recovery', 'Recovery code', { autocomplete: 'off', maxlength: 40, disabled: true }),
    err,
    h('button.primary', { type: 'submit' }, 'Sign in'),
    h('p.muted', 'New account or password reset? ', h('a', { href: '/activate' }, 'Choose your password with the one-time code')),
  );
  useRecovery.addEventListener('change', () => {
    form.elements.recovery.disabled = !useRecovery.checked;
    form.elements.totp.disabled = useRecovery.checked;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const f = form.elements;
    const body = { username: f.username.value.trim(), password: f.password.value };
    if (useRecovery.checked) body.recoveryCode = f.recovery.value.trim();
    else if (f.totp.value.trim()) body.totp = f.totp.value.trim();
    try {
      await api('/api/v1/auth/login', { method: 'POST', body });
      await app.refreshSession();
      const next = new URLSearchParams(location.search).get('next');
      app.navigate(app.session.stage === 'enrol' ? '/enrol' : next && next.startsWith('/') && !next.startsWith('//') ? next : app.home(), true);
    } catch (e) {
      err.textContent = e instanceof ApiFailure ? e.message : String(e);
      if (e.code === 'E_AUTH_TOTP_REQUIRED') f.totp.focus();
    }
  });
  clear(main, form);
}

export async function enrolPage(main) {
  document.title = 'Set up two-factor authentication · lotgate';
  if (!app.session) return app.navigate('/login', true);
  const err = h('p.error', { role: 'alert' });
  let started;
  try {
    started = await api('/api/v1/auth/totp/enrol', { method: 'POST' });
  } catch (e) {
    if (e.code === 'E_AUTH_TOTP_ENROLLED') return app.navigate(app.home(), true);
    throw e;
  }
  const form = h(
    'form.card.narrow#enrol-form',
    h('h1', 'Set up two-factor authentication'),
    h('p', 'lotgate asks for a code from an authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP …) at every sign-in and when you sign a record.'),
    h('ol',
      h('li', 'In the app, add an account with this key (type it, time-based, 6 digits):', h('div', h('code.secret#totp-secret', started.secret))),
      h('li', 'Or open this link on the phone: ', h('code.uri', started.otpauthUri)),
      h('li', 'Enter the code the app now shows.')),
    field('code', 'Code from the app', { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true, autofocus: true }),
    err,
    h('button.primary', { type: 'submit' }, 'Confirm'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const r = await api('/api/v1/auth/totp/confirm', { method: 'POST', body: { code: form.elements.code.value.trim() } });
      await app.refreshSession();
      clear(
        main,
        h(
          'section.card.narrow#recovery-codes',
          h('h1', 'Two-factor authentication is on'),
          h('p', h('strong', 'Keep these recovery codes somewhere safe.'), ' Each works once, instead of a code from the app, if you lose your phone. They are shown only now.'),
          h('ul.codes', r.recoveryCodes.map((c) => h('li', h('code', c)))),
          h('a.button.primary', { href: app.home() }, 'Continue'),
        ),
      );
    } catch (e) {
      err.textContent = e.message;
    }
  });
  clear(main, form);
}

/** A new user (or after a reset) chooses a password with the administrator's one-time code. */
export async function activatePage(main) {
  document.title = 'Choose your password · lotgate';
  const err = h('p.error', { role: 'alert' });
  const form = h(
    'form.card.narrow#activate-form',
    h('h1', 'Choose your password'),
    h('p', 'Your administrator gave you a one-time code (valid 24 hours). Nobody else, the administrator included, will know the password you choose.'),
    field('a-username', 'User name', { autocomplete: 'username', required: true }),
    field('a-code', 'One-time code', { autocomplete: 'off', required: true }),
    field('a-password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }, 'At least 12 characters; a passphrase of several words is easiest.'),
    field('a-password2', 'New password again', { type: 'password', autocomplete: 'new-password', required: true }),
    err,
    h('button.primary', { type: 'submit' }, 'Set password'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const f = form.elements;
    if (f['a-password'].value !== f['a-password2'].value) {
      err.textContent = 'The two passwords differ.';
      return;
    }
    try {
      await api('/api/v1/auth/password', { method: 'POST', body: { username: f['a-username'].value.trim(), code: f['a-code'].value.trim(), password: f['a-password'].value } });
      clear(main, h('section.card.narrow#activated', h('h1', 'Password set'), h('p', 'Sign in now. The first sign-in sets up the authentication code on your phone.'), h('a.button.primary', { href: '/login' }, 'Sign in')));
    } catch (e) {
      err.textContent = e.message;
    }
  });
  clear(main, form);
}
