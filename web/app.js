// The board's router: one page per path (the paths notifications link to), the session, the nav.

import { api, ApiFailure, setCsrf } from './api.js';
import { clear, h, toast } from './dom.js';
import { boardPage } from './pages/board.js';
import { exceptionsPage } from './pages/exceptions.js';
import { adminPage } from './pages/admin.js';
import { activatePage, enrolPage, loginPage } from './pages/login.js';
import { lotByNumberPage, lotPage } from './pages/lot.js';
import { opsPage } from './pages/ops.js';
import { mappingsPage } from './pages/mappings.js';
import { portalPage } from './pages/portal.js';
import { auditPage } from './pages/audit.js';
import { sessionsPage } from './pages/sessions.js';
import { submissionPage, submissionsPage } from './pages/submissions.js';

export const app = {
  session: null,
  perms: new Set(),
  /** Stops timers of the page being left (polling). */
  cleanup: [],
  can(p) {
    return this.perms.has(p);
  },
  navigate(url, replace = false) {
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    return render();
  },
  async refreshSession() {
    try {
      this.session = await api('/api/v1/auth/session');
      setCsrf(this.session.csrfToken);
      this.perms = this.session.stage === 'full' ? new Set((await api('/api/v1/me/permissions')).permissions) : new Set();
    } catch (e) {
      if (!(e instanceof ApiFailure) || e.status !== 401) throw e;
      this.session = null;
      this.perms = new Set();
    }
    renderTop();
  },
  home() {
    return this.can('lots:read') ? '/lots' : this.can('submissions:create') ? '/portal' : this.can('users:manage') ? '/admin' : '/submissions';
  },
};

/** [path, permission the page needs (null: any signed-in user), page]. */
const ROUTES = [
  [/^\/login$/, null, () => loginPage],
  [/^\/enrol$/, null, () => enrolPage],
  [/^\/activate$/, null, () => activatePage],
  [/^\/admin$/, 'users:manage', () => adminPage],
  [/^\/lots$/, 'lots:read', () => boardPage],
  [/^\/lots\/(\d+)$/, 'lots:read', (m) => (main) => lotPage(main, Number(m[1]))],
  [/^\/lots\/([^/]+)\/([^/]+)$/, 'lots:read', (m) => (main) => lotByNumberPage(main, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^\/exceptions$/, 'lots:read', () => exceptionsPage],
  [/^\/ops$/, 'jobs:read', () => opsPage],
  [/^\/submissions$/, 'submissions:read', () => submissionsPage],
  [/^\/submissions\/(\d+)$/, 'submissions:read', (m) => (main) => submissionPage(main, Number(m[1]))],
  [/^\/portal$/, 'submissions:create', () => portalPage],
  [/^\/sessions$/, null, () => sessionsPage],
  [/^\/mappings$/, 'mappings:test', () => (main) => mappingsPage(main, null)],
  [/^\/mappings\/([^/]+)$/, 'mappings:test', (m) => (main) => mappingsPage(main, decodeURIComponent(m[1]))],
  [/^\/audit$/, 'audit:read', () => auditPage],
  [/^\/partners\/([^/]+)$/, 'submissions:read', (m) => () => app.navigate(`/submissions?partner=${m[1]}`, true)],
];

function renderTop() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const s = app.session;
  if (!s || s.stage !== 'full') {
    clear(nav);
    clear(who);
    return;
  }
  const links = [];
  if (app.can('lots:read')) links.push(['/lots', 'Board'], ['/exceptions', 'Exceptions']);
  if (app.can('submissions:create')) links.push(['/portal', 'Upload']);
  if (app.can('jobs:read') && app.can('lots:read')) links.push(['/ops', 'Operations']);
  if (app.can('users:manage')) links.push(['/admin', 'Administration']);
  if (app.can('mappings:test')) links.push(['/mappings', 'Mappings']);
  if (app.can('audit:read')) links.push(['/audit', 'Audit']);
  if (app.can('submissions:read')) links.push(['/submissions', app.can('lots:read') ? 'Submissions' : 'My submissions']);
  clear(nav, links.map(([href, label]) => h('a', { href, 'aria-current': location.pathname.startsWith(href) ? 'page' : null }, label)));
  const roles = s.principal.roles.map((r) => r.role).join(', ');
  clear(
    who,
    h('a#me', { href: '/sessions', title: 'Your sessions' }, `${s.principal.displayName} (${roles}${s.principal.partner ? ` · ${s.principal.partner}` : ''})`),
    ' ',
    h('button.link#signout', { type: 'button', onclick: signOut }, 'Sign out'),
  );
}

async function signOut() {
  try {
    await api('/api/v1/auth/logout', { method: 'POST' });
  } catch (e) {
    toast(e.message, true);
  }
  app.session = null;
  app.perms = new Set();
  renderTop();
  app.navigate('/login');
}

export async function render() {
  for (const f of app.cleanup.splice(0)) f();
  const main = document.getElementById('main');
  const path = location.pathname;
  if (app.session === null && path !== '/login' && path !== '/activate') {
    return app.navigate(`/login?next=${encodeURIComponent(path + location.search)}`, true);
  }
  if (app.session && app.session.stage === 'enrol' && path !== '/enrol' && path !== '/login') return app.navigate('/enrol', true);
  if (path === '/' || (app.session && path === '/login' && app.session.stage === 'full')) return app.navigate(app.home(), true);
  renderTop();
  for (const [re, perm, make] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    if (perm && app.session?.stage === 'full' && !app.can(perm)) {
      clear(main, h('h1', 'Not available'), h('p', 'Your roles do not include this page. ', h('a', { href: app.home() }, 'Go to your start page')));
      return;
    }
    try {
      await make(m)(main);
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 401) {
        app.session = null;
        return render();
      }
      clear(main, h('h1', 'Something went wrong'), h('p.error', { role: 'alert' }, `${e.code ?? 'Error'}: ${e.message}`));
    }
    return;
  }
  clear(main, h('h1', 'Page not found'), h('p', 'No page at ', h('code', path), '. ', h('a', { href: app.home() }, 'Go to the start page')));
}

document.addEventListener('click', (ev) => {
  const a = ev.target instanceof Element ? ev.target.closest('a') : null;
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.hasAttribute('download') || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return;
  ev.preventDefault();
  app.navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => render());

await app.refreshSession();
await render();
