// The composer: messages sent in order with a clientId, retried but stored
// once; typing notifications; the intro and away forms.

import { t } from './i18n.js';
import { newClientId } from './ids.js';
import { clearNotice, closed, notify, render, renderPresence, ui } from './render.js';
import { save, state } from './store.js';
import { addMessages, adopt, api, backoff, ensureRoom, problem, reset, sleep } from './transport.js';

/** Reads the intro form before the first message; false when the email is invalid. */
function takeIntro() {
  if (ui.intro.hidden) return true;
  const email = ui.email.value.trim();
  if (email && !ui.email.checkValidity()) {
    ui.introError.hidden = false;
    ui.email.setAttribute('aria-invalid', 'true');
    ui.email.focus();
    return false;
  }
  ui.introError.hidden = true;
  ui.email.removeAttribute('aria-invalid');
  state.identity = { name: ui.name.value.trim() || state.identity.name, email: email || state.identity.email };
  state.introDone = true;
  return true;
}

/** Queues a message, with a fresh clientId (and attachment ids). */
function queue(content, files) {
  state.outbox.push({ clientId: newClientId('w'), content, files, status: 'queued' });
  save();
}

/** Sends uploaded files as a message of their own. @param {string[]} ids */
export function sendFiles(ids) {
  if (!takeIntro()) return;
  queue('', ids);
  render('bottom');
  flush();
}

/** Queues the composer's text as a message and sends it. */
function submit() {
  const content = ui.input.value.trim();
  if (!content || !takeIntro()) return;
  queue(content);
  ui.input.value = '';
  autosize();
  render('bottom');
  flush();
}

let flushing = false;

/** Sends queued messages one at a time, in order. */
export async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    let o;
    while ((o = state.outbox.find((x) => x.status === 'queued'))) {
      o.status = 'sending';
      render();
      const err = await deliver(o);
      if (err) {
        for (const x of state.outbox) {
          if (x.status !== 'failed' && x.status !== 'done') {
            x.status = 'failed';
            x.error = err.text;
            delete x.seq;
          }
        }
        notify(err.text, 'send');
        render();
        if (err.wait) setTimeout(retryAll, err.wait * 1000);
        break;
      }
      clearNotice('send');
      clearNotice('net');
    }
  } finally {
    flushing = false;
  }
}

/**
 * Delivers one outbox entry; null when stored, else the problem. Network
 * failures are retried with the same clientId: the server stores it once.
 */
async function deliver(o) {
  let recovered = false;
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      const err = await ensureRoom();
      if (err) return err;
      res = await api('POST', `/rooms/${state.session.roomId}/messages`, { content: o.content, clientId: o.clientId, attachments: o.files });
    } catch (e) {
      if (attempt >= 5) return { text: t('offline') };
      notify(t('retrying'), 'net');
      await sleep(backoff(attempt));
      continue;
    }
    if (res.ok && res.data && res.data.message) {
      o.status = 'done';
      state.outbox = state.outbox.filter((x) => x !== o);
      save();
      if (state.msgs.has(res.data.message.seq)) render();
      else addMessages([res.data.message], true);
      return null;
    }
    if ((res.status === 401 || res.status === 404) && !recovered) {
      // The room expired or was deleted: the message goes to a new one.
      recovered = true;
      reset(t('restarted'), true);
      continue;
    }
    return problem(res);
  }
}

/** Sends every failed message again, in order. */
export function retryAll() {
  for (const o of state.outbox) if (o.status === 'failed') o.status = 'queued';
  flush();
}

/** Drops an unsent message. */
export function discard(o) {
  state.outbox = state.outbox.filter((x) => x !== o);
  save();
  render();
  if (!state.outbox.some((x) => x.status === 'failed')) clearNotice('send');
  ui.input.focus();
}

/**
 * Stores the email given while no admin is online; if the server keeps the
 * room's first details, it goes as a message.
 */
async function saveEmail(email) {
  state.identity.email = email;
  if (!state.session) return renderPresence();
  try {
    const res = await api('POST', '/rooms', { email, page: state.page || undefined });
    if (res.ok && res.data && res.data.room) adopt(res.data);
  } catch (e) {
    /* falls through to the message */
  }
  if (!state.room || state.room.visitorEmail !== email) {
    state.room = { ...state.room, visitorEmail: email };
    queue(t('emailMessage', { email }));
    render('bottom');
    flush();
  }
  renderPresence();
}

let typingSent = 0;

/** Tells the admins the visitor is typing, at most every 3 s. */
function sendTyping() {
  const now = Date.now();
  if (!state.session || !ui.input.value.trim() || now - typingSent < 3000) return;
  typingSent = now;
  api('POST', `/rooms/${state.session.roomId}/typing`).then((r) => r.status === 403 && closed(), () => {});
}

/** Grows the composer with its text, up to a limit. */
function autosize() {
  ui.input.style.height = 'auto';
  ui.input.style.height = Math.min(ui.input.scrollHeight, 132) + 'px';
  followText(ui.input);
}

/**
 * A field takes its text's direction, and the panel's while empty (an empty
 * dir=auto field would be left to right, even in an Arabic panel).
 * @param {HTMLInputElement|HTMLTextAreaElement} field
 */
function followText(field) {
  if (field.value) field.dir = 'auto';
  else field.removeAttribute('dir');
}

/** Wires the composer, the intro and away forms, and resending when back online. */
export function bindComposer() {
  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
  ui.input.addEventListener('input', () => {
    autosize();
    sendTyping();
  });
  ui.name.addEventListener('input', () => followText(ui.name));
  followText(ui.input);
  followText(ui.name);
  ui.intro.addEventListener('submit', (e) => {
    e.preventDefault();
    ui.input.focus();
  });
  ui.away.addEventListener('submit', (e) => {
    e.preventDefault();
    const email = ui.awayEmail.value.trim();
    if (!email || !ui.awayEmail.checkValidity()) {
      ui.awayEmail.setAttribute('aria-invalid', 'true');
      ui.awayEmail.focus();
      return;
    }
    ui.awayEmail.removeAttribute('aria-invalid');
    saveEmail(email);
  });
  window.addEventListener('online', () => {
    if (state.outbox.some((o) => o.status === 'failed')) retryAll();
  });
}
