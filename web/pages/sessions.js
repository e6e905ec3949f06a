// Your sessions: where you are signed in, and ending a session you no longer use.

import { api } from '../api.js';
import { app } from '../app.js';
import { clear, h, table, toast, when } from '../dom.js';

export async function sessionsPage(main) {
  document.title = 'Your sessions · lotgate';
  const { items } = await api('/api/v1/me/sessions');
  const rows = items.map((s) =>
    h(
      'tr',
      { dataset: { session: s.id, active: String(s.active) } },
      h('th', { scope: 'row' }, when(s.createdAt), s.current ? h('div', h('strong', 'this browser')) : null),
      h('td', when(s.lastSeenAt)),
      h('td', s.active ? when(s.expiresAt) : h('span.muted', s.revokedReason ?? 'ended')),
      h('td', s.ip ?? ''),
      h('td', h('small', s.userAgent ?? '')),
      h(
        'td',
        s.active && !s.current
          ? h('button', {
              type: 'button',
              'aria-label': `End the session started ${new Date(s.createdAt).toLocaleString()}`,
              onclick: async () => {
                try {
                  await api(`/api/v1/me/sessions/${s.id}/revoke`, { method: 'POST' });
                  toast('Session ended');
                  app.navigate('/sessions', true);
                } catch (e) {
                  toast(e.message, true);
                }
              },
            }, 'End')
          : '',
      ),
    ),
  );
  clear(
    main,
    h('h1', 'Your sessions'),
    h('p.muted', 'Where you are signed in. End a session you do not recognise — and change your password.'),
    table(['Signed in', 'Last seen', 'Ends', 'Address', 'Browser', 'Action'], rows, { cls: 'sessions' }),
    items.filter((s) => s.active && !s.current).length > 1
      ? h('p', h('button', {
          type: 'button',
          onclick: async () => {
            try {
              const r = await api('/api/v1/auth/sessions/revoke-others', { method: 'POST' });
              toast(`${r.revoked} session(s) ended`);
              app.navigate('/sessions', true);
            } catch (e) {
              toast(e.message, true);
            }
          },
        }, 'End all other sessions'))
      : null,
  );
}
