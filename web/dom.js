// Building DOM without HTML strings: every value from the API is text, never markup.

/** h('tag.class#id', {attrs}, ...children): an element; strings become text nodes. */
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m && m[1] ? m[1] : 'div');
  for (const part of (m ? m[2] : '').match(/[.#][\w-]+/g) ?? []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs !== undefined && attrs !== null && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A date-time in the viewer's time zone (ISO kept in the title). */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return h('time', { datetime: iso, title: iso }, d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
}

/** Date only, in the viewer's time zone; the full instant in the tooltip. */
export function whenShort(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return h('time', { datetime: iso, title: d.toLocaleString() }, d.toLocaleDateString(undefined, { dateStyle: 'medium' }));
}

export function day(iso) {
  return iso ? h('time', { datetime: iso }, iso.slice(0, 10)) : '';
}

export function badge(state) {
  return state ? h(`span.badge.s-${state}`, state.replace('_', ' ')) : h('span.badge', 'no readiness');
}

/** New facts arrived and the lot's readiness is being recomputed: the state shown may be stale. */
export function recomputingBadge(lot) {
  return lot?.recomputing ? h('span.badge.recomputing', { title: 'New facts arrived; readiness is being recomputed. Do not act on the state shown until it is.' }, 'recomputing…') : null;
}

export function table(headers, rows, opts = {}) {
  // A table wider than the page scrolls inside its box: keyboard users reach it with Tab and scroll with the arrows.
  return h('div.scroll', { tabindex: '0', role: 'region', 'aria-label': opts.caption ?? opts.label ?? 'Table' }, h(
    'table' + (opts.cls ? `.${opts.cls}` : ''),
    opts.caption ? h('caption', opts.caption) : null,
    h('thead', h('tr', headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', rows.length ? rows : h('tr', h('td.muted', { colspan: headers.length }, opts.empty ?? 'None.'))),
  ));
}

export function section(title, ...body) {
  const id = 'sec-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section.card', { 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

export function toast(msg, bad = false) {
  const t = document.getElementById('toast');
  t.className = bad ? 'bad' : '';
  t.textContent = msg;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => (t.textContent = ''), 6000);
}
