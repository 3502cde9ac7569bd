// The chat panel's entry, /widget/frame.html in the loader's iframe (or on
// its own, for testing), under a CSP with no inline script or style: it
// wires the modules and talks to the loader by postMessage.

import { bindComposer, discard, flush, retryAll, sendFiles } from './composer.js';
import { useDateLocale } from './dates.js';
import { loadLocale, locale, parseTexts, pickLocale, t, translate } from './i18n.js';
import { $, initRender, nearBottom, notify, render, renderPresence, ui } from './render.js';
import { restore, state } from './store.js';
import { api, ensureRoom, initRoom, loadHours, loadOlder, markRead, problem, reportPage, reset, resume, updateUnread } from './transport.js';

const params = new URLSearchParams(location.search);
const embedded = window.parent !== window;
const hostOrigin = embedded ? params.get('origin') || '' : location.origin;
state.visible = !embedded;

/** @param {string} s @returns {boolean} s is an origin such as https://example.com */
function isOrigin(s) {
  try {
    return new URL(s).origin === s;
  } catch (e) {
    return false;
  }
}

/** Sends msg to the loader, naming its exact origin. @param {Object} msg */
function tell(msg) {
  if (embedded) window.parent.postMessage({ ...msg, parley: 1 }, hostOrigin);
}

/** Shows or hides the panel (as the loader says), focusing the composer if asked. */
function setVisible(visible, focus) {
  state.visible = visible;
  if (!visible) return;
  if (focus) ui.input.focus();
  if (!ui.jump.hidden || nearBottom()) {
    ui.scroll.scrollTop = ui.scroll.scrollHeight;
    ui.jump.hidden = true;
  }
  markRead();
}

/** Takes what the host page knows about the visitor. */
function identify(name, email) {
  state.identity = { name: name.slice(0, 80), email: email.slice(0, 254) };
  if (!ui.name.value) ui.name.value = state.identity.name;
  if (!ui.email.value) ui.email.value = state.identity.email;
  render();
  renderPresence();
}

/** @param {string} token a JWT @returns {string} its sub, unchecked (the server checks) */
function subOf(token) {
  try {
    return String(JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub || '');
  } catch (e) {
    return '';
  }
}

let held = null; // a saved session of a signed-in user, until the loader says who is here

/**
 * Takes the site's user (identify: signed by its backend, or only claimed) or
 * their logout: a conversation of someone else is forgotten on this device,
 * and a signed-in user gets theirs, from any device.
 * @param {Object} m the loader's identify or logout message
 */
function who(m) {
  const token = m.type === 'identify' ? String(m.token || '') : '';
  const id = token ? subOf(token) : m.type === 'identify' ? String(m.id || '') : '';
  const signed = !!(token || (id && m.signature));
  state.ident = signed ? id : '';
  state.verify = token ? { identityToken: token } : id ? { identity: { id, name: state.identity.name || undefined,
    email: state.identity.email || undefined, signature: signed ? String(m.signature) : undefined } } : null;
  const saved = held;
  held = null;
  if (saved && saved.ident === state.ident) {
    state.session = saved;
    render();
    resume().then(flush);
  } else if (saved || (state.session && state.session.ident !== state.ident)) {
    reset('', false);
    // Someone else now: what the last one typed goes too (a shared computer).
    if (m.type === 'logout') state.identity = { name: '', email: '' };
    ui.name.value = state.identity.name;
    ui.email.value = state.identity.email;
  }
  if (state.ident && !state.session) ensureRoom().then((p) => p && notify(p.text, 'net'));
}

/** Handles a message from the loader: only from our parent window and the host page's origin. */
function receive(e) {
  const m = e.data;
  if (e.source !== window.parent || e.origin !== hostOrigin || !m || m.parley !== 1) return;
  if (m.type === 'open' || m.type === 'page') {
    // Who the visitor is, for the agents: only once they opened the chat.
    if (typeof m.page === 'string' && /^https?:/.test(m.page)) state.page = m.page.slice(0, 2048);
    if (typeof m.url === 'string' && /^https?:/.test(m.url)) state.page = m.url.slice(0, 2048);
    state.pageTitle = String(m.title || '').slice(0, 200);
    if (typeof m.referrer === 'string' && /^https?:/.test(m.referrer)) state.referrer = m.referrer.slice(0, 2048);
    state.opened = true;
    reportPage();
    if (m.type === 'open') setVisible(true, m.focus);
  } else if (m.type === 'close') {
    setVisible(false);
  } else if (m.type === 'identify' || m.type === 'logout') {
    if (m.type === 'identify') identify(String(m.name || ''), String(m.email || ''));
    who(m);
  } else if (m.type === 'layout') {
    document.documentElement.classList.toggle('full', !!m.full);
  }
}

/** Shows or hides the in-panel confirmation; the rest of the panel is inert meanwhile. */
function showConfirm(show) {
  ui.confirm.hidden = !show;
  for (const c of $('panel').children) if (c !== ui.confirm) c.inert = show;
}

/** Closes the confirmation. */
function cancelDelete() {
  showConfirm(false);
  ui.del.focus();
}

/** Erases the conversation on the server, then here. */
async function doDelete() {
  ui.ok.disabled = true;
  try {
    const res = await api('DELETE', `/rooms/${state.session.roomId}`);
    showConfirm(false);
    if (res.ok || res.status === 404 || res.status === 401) {
      reset(t('deleted'), false);
      ui.input.focus();
    } else {
      notify(res.status === 503 ? t('unavailable') : problem(res).text, 'send');
    }
  } catch (e) {
    showConfirm(false);
    notify(t('unreachable'), 'net');
  } finally {
    ui.ok.disabled = false;
  }
}

/** Asks the server to mail the conversation to the visitor's email. */
async function mailTranscript() {
  ui.mail.disabled = true;
  try {
    const res = await api('POST', `/rooms/${state.session.roomId}/transcript`);
    notify(res.ok ? t('mailSent', { email: state.room.visitorEmail })
      : res.status === 409 ? t('mailUnavailable') : problem(res).text, res.ok ? '' : 'send');
  } catch (e) {
    notify(t('unreachable'), 'net');
  } finally {
    ui.mail.disabled = false;
  }
}

/**
 * Applies what the loader passed in the URL: the language (locale, else the
 * browser's), the owner's texts, title, greeting and colour; then shows the
 * panel, in its words.
 */
async function configure() {
  const texts = parseTexts(params.get('texts'));
  if (params.get('title')) texts.title = params.get('title').slice(0, 80);
  if (params.get('greeting')) texts.greeting = params.get('greeting').slice(0, 500);
  await loadLocale(pickLocale(params.get('locale'), navigator.languages), texts);
  useDateLocale(locale, t('today'), t('yesterday'));
  translate(document);
  const title = t('title').slice(0, 80);
  const greeting = t('greeting').slice(0, 500);
  const color = params.get('color') || '';
  document.title = title;
  ui.title.textContent = title;
  $('greeting-who').textContent = title;
  $('greeting-text').textContent = greeting;
  if (/^#([0-9a-f]{3}){1,2}$/i.test(color)) {
    let h = color.slice(1);
    if (h.length === 3) h = h.replace(/./g, '$&$&');
    const n = parseInt(h, 16);
    const y = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
    document.documentElement.style.setProperty('--accent', color);
    document.documentElement.style.setProperty('--on-accent', y > 160 ? '#111' : '#fff');
  }
  if (!embedded) document.documentElement.classList.add('standalone', 'full');
  document.documentElement.classList.remove('loading');
}

/** The attachments' code, fetched on first use. */
const files = () => import('./attach.js');

/** Uploads files (picked, pasted or dropped) and sends them. @param {FileList} list */
function attach(list) {
  if (list && list.length && !ui.input.disabled) files().then((m) => m.upload(list, sendFiles));
}

/** Wires the modules together and the controls to them. */
function bind() {
  initRender({
    retry: retryAll, discard, rendered: updateUnread,
    files: (box, list) => (files().then((m) => m.drawFiles(box, list)), box),
  });
  ui.attach.addEventListener('click', () => ui.file.click());
  ui.file.addEventListener('change', () => {
    attach(ui.file.files);
    ui.file.value = '';
  });
  ui.input.addEventListener('paste', (e) => {
    if (e.clipboardData.files.length) {
      e.preventDefault();
      attach(e.clipboardData.files);
    }
  });
  ui.panel.addEventListener('dragover', (e) => e.preventDefault());
  ui.panel.addEventListener('drop', (e) => {
    e.preventDefault();
    attach(e.dataTransfer.files);
  });
  initRoom(tell);
  bindComposer();
  ui.scroll.addEventListener('scroll', () => {
    if (ui.scroll.scrollTop < 80) loadOlder();
    if (nearBottom()) ui.jump.hidden = true;
  }, { passive: true });
  ui.older.addEventListener('click', loadOlder);
  ui.jump.addEventListener('click', () => {
    ui.scroll.scrollTop = ui.scroll.scrollHeight;
    ui.jump.hidden = true;
    ui.input.focus();
  });
  ui.close.addEventListener('click', () => tell({ type: 'close' }));
  ui.del.addEventListener('click', () => {
    showConfirm(true);
    ui.cancel.focus();
  });
  ui.mail.addEventListener('click', mailTranscript);
  ui.cancel.addEventListener('click', cancelDelete);
  ui.ok.addEventListener('click', doDelete);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!ui.confirm.hidden) cancelDelete();
    else tell({ type: 'close' });
  });
  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('message', receive);
}

/** Starts the panel: config, saved session, unsent messages. */
async function start() {
  await configure();
  if (embedded) {
    const anc = location.ancestorOrigins;
    if (!isOrigin(hostOrigin) || (anc && anc.length && anc[0] !== hostOrigin)) {
      notify(t('wrongPage'), 'send');
      ui.composer.hidden = true;
      return;
    }
    ui.close.hidden = false;
  } else {
    ui.close.hidden = true;
    ui.input.focus();
  }
  bind();
  const saved = restore('parley:' + hostOrigin);
  render('bottom');
  renderPresence();
  tell({ type: 'ready' });
  loadHours();
  if (saved && saved.ident && embedded) {
    held = saved;
    return;
  }
  if (saved) {
    state.session = saved;
    render();
    await resume();
  }
  if (state.outbox.length) flush();
}

start();
