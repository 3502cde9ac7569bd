// The admin console's entry point: login, routing between the inbox, the
// visitors page and the team page, the wiring of the event stream and the keyboard to the views.

import { el } from '../widget/dom.js';
import * as api from './api.js';
import { CannedList, CannedPage } from './canned.js';
import { Conversation, closeDetails } from './conversation.js';
import { Inbox } from './inbox.js';
import { LabelsPage } from './labels.js';
import { Notifier } from './notify.js';
import { AdminStream } from './stream.js';
import { initials, visitorLabel } from './people.js';
import { ProfileEditor } from './profile.js';
import { roster } from './roster.js';
import { bindShortcuts } from './shortcuts.js';
import { SlashPopup } from './slash.js';
import { Team } from './team.js';
import { WebhooksPage } from './webhooks.js';
import { TokensPage } from './tokens.js';
import { Visits } from './visits.js';

/** @param {string} id @returns {any} */
const $ = (id) => document.getElementById(id);

// How long the first room list waits for the stream before loading anyway.
const STREAM_GRACE_MS = 1500;

const ui = {
  login: $('login'),
  loginForm: /** @type {HTMLFormElement} */ ($('login-form')),
  loginError: $('login-error'),
  loginNote: $('login-note'),
  loginButton: /** @type {HTMLButtonElement} */ ($('login-submit')),
  app: $('app'),
  me: $('me'),
  meAvatar: $('me-avatar'),
  logout: $('logout'),
  status: $('status'),
  statusText: $('status-text'),
  inboxView: $('inbox-view'),
  visitsView: $('visits-view'),
  navInbox: $('nav-inbox'),
  navVisits: $('nav-visits'),
  cannedView: $('canned-view'),
  navCanned: $('nav-canned'),
  teamView: $('team-view'),
  navTeam: $('nav-team'),
  labelsView: $('labels-view'),
  navLabels: $('nav-labels'),
  webhooksView: $('webhooks-view'),
  navWebhooks: $('nav-webhooks'),
  tokensView: $('tokens-view'),
  navTokens: $('nav-tokens'),
  toasts: $('toasts'),
};

const notifier = new Notifier({
  button: $('notify'), label: $('notify-label'), favicon: /** @type {HTMLLinkElement} */ ($('favicon')),
  onOpenRoom: (id) => { location.hash = '#/r/' + id; },
});

const inbox = new Inbox({
  list: $('rooms'), scroller: $('rooms-scroll'), sentinel: $('rooms-sentinel'), footer: $('rooms-footer'),
  empty: $('rooms-empty'), search: /** @type {HTMLInputElement} */ ($('search')), filters: $('filters'),
  unreadTab: $('unread-count'), labelFilter: /** @type {HTMLSelectElement} */ ($('label-filter')),
  me: () => api.session.get()?.admin?.username || '',
  onUnreadChange: (n) => notifier.setUnread(n),
  onError: (msg) => toast(msg, 'error'),
});

const conversation = new Conversation({
  empty: $('conv-empty'), view: $('conv'), header: $('conv-header'), banner: $('conv-banner'),
  thread: $('thread'), top: $('thread-top'), msgs: $('thread-msgs'), pending: $('thread-pending'),
  typing: $('thread-typing'), jump: /** @type {HTMLButtonElement} */ ($('jump')),
  form: /** @type {HTMLFormElement} */ ($('composer')), reply: /** @type {HTMLTextAreaElement} */ ($('reply')),
  counter: $('reply-counter'), details: $('details'), dialog: /** @type {HTMLDialogElement} */ ($('confirm-delete')),
  tools: $('conv-tools'), confirmReply: /** @type {HTMLDialogElement} */ ($('confirm-reply')),
}, {
  me: () => api.session.get()?.admin || { username: '', displayName: '' },
  onRoom: (room) => inbox.upsert(room),
  onGone: (id, message) => {
    inbox.remove(id);
    if (conversation.id === id) {
      conversation.close();
      if (location.hash.startsWith('#/r/')) location.hash = '#/';
    }
    toast(message);
  },
  toast: (msg, kind) => toast(msg, kind),
});

const visits = new Visits({ root: $('visits-root') });

const canned = new CannedList();
const cannedPage = new CannedPage({ root: $('canned-root'), dialog: /** @type {HTMLDialogElement} */ ($('confirm-canned')) }, canned, {
  toast: (msg, kind) => toast(msg, kind),
});
const slash = new SlashPopup(/** @type {HTMLTextAreaElement} */ ($('reply')), {
  match: (q) => canned.match(q),
  values: () => ({
    visitorName: conversation.room?.visitorName, visitorEmail: conversation.room?.visitorEmail,
    agentName: api.session.get()?.admin?.displayName || api.session.get()?.admin?.username,
  }),
  empty: () => !canned.loaded ? 'Loading canned replies…'
    : canned.items.length ? 'No canned reply matches.' : 'No canned replies yet: add some under Canned replies.',
});
canned.subscribe(() => slash.refresh());
const labelsPage = new LabelsPage({ root: $('labels-root') }, {
  owner: () => (api.session.get()?.admin?.role || 'agent') === 'owner',
  toast: (msg, kind) => toast(msg, kind),
});
const team = new Team({ root: $('team-root') }, {
  me: () => {
    const a = api.session.get()?.admin;
    return { username: a?.username || '', role: a?.role || 'agent' };
  },
  toast: (msg, kind) => toast(msg, kind),
});

// The Webhooks page (owners): its own block, so the routing below only asks
// whether it is shown.
const webhooks = new WebhooksPage({ root: $('webhooks-root'), nav: ui.navWebhooks }, {
  owner: () => api.session.get()?.admin?.role === 'owner',
  toast: (msg, kind) => toast(msg, kind),
});

// The Tokens page (owners): API tokens, shown over the others like Webhooks.
const tokens = new TokensPage({ root: $('tokens-root') }, {
  owner: () => api.session.get()?.admin?.role === 'owner',
  toast: (msg, kind) => toast(msg, kind),
});

new ProfileEditor($('profile'), {
  toast: (msg, kind) => toast(msg, kind),
  // The header shows the new name at once; replies are stamped from the
  // token, so the session keeps the name it signed in with.
  onSaved: (p) => showMe(p.displayName || p.username),
  // A new password ended every older token, this one's too: carry on with
  // the new one (the stream reconnects with it).
  onToken: (token, expiresAt) => {
    const s = api.session.get();
    if (s) api.session.set({ ...s, token, expiresAt });
    armExpiry(expiresAt);
    stream.restart();
  },
});

let listTimer = 0;
let expiryTimer = 0;

const stream = new AdminStream({
  onStatus: (status) => showStatus(status),
  onOpen: ({ reconnected, resumed }) => {
    clearTimeout(listTimer);
    // A resumed stream replays what was missed (or says reset).
    if (resumed) return;
    // Load (or reload) only now that events flow, so nothing falls between
    // the list and the stream.
    inbox.load();
    canned.load();
    webhooks.check();
    if (reconnected) conversation.catchUp();
  },
  onEvent: (ev) => handleEvent(ev),
});

/**
 * Applies one event of the admin stream.
 * @param {{type: string, data: any}} ev
 */
function handleEvent(ev) {
  const d = ev.data;
  switch (ev.type) {
    case 'reset':
      // The server cannot replay what was missed (too long away, or its
      // Redis came back with older data): reload everything held.
      inbox.load();
      conversation.reload();
      roster.load();
      canned.load();
      break;
    case 'canned.updated':
      canned.upsert(d);
      break;
    case 'canned.deleted':
      canned.remove(d.id);
      break;
    case 'room':
      inbox.upsert(d);
      conversation.applyRoom(d);
      break;
    case 'message':
      inbox.applyMessage(d);
      conversation.applyMessage(d);
      if (d.sender === 'visitor') {
        const room = inbox.get(d.roomId);
        notifier.visitorMessage(d, room ? visitorLabel(room) : 'New message');
      }
      break;
    case 'typing':
      if (d.sender === 'visitor') {
        inbox.setTyping(d.roomId);
        conversation.visitorTyping(d.roomId);
      }
      break;
    case 'note':
      conversation.applyNote(d.note);
      break;
    case 'visitor.page':
      conversation.applyVisitor(d);
      break;
    case 'labels':
      roster.setLabels(d.labels);
      break;
    case 'agent.activity':
      conversation.agentActivity(d);
      break;
    case 'agent.updated':
      if (!d.agent) break;
      roster.putAgent(d.agent);
      team.applyAgent(d.agent);
      if (d.agent.username === api.session.get()?.admin?.username) setRole(d.agent.role);
      break;
    case 'agent.removed':
      roster.dropAgent(d.username);
      team.removeAgent(d.username);
      break;
    case 'room.deleted':
      // A delete from this console says so itself, once its answer is in.
      if (conversation.id === d.roomId && conversation.deleting !== d.roomId) {
        conversation.close();
        if (location.hash.startsWith('#/r/')) location.hash = '#/';
        toast('This conversation was deleted.');
      }
      inbox.remove(d.roomId);
      break;
  }
}

/** @param {import('./stream.js').StreamStatus} status */
function showStatus(status) {
  ui.status.dataset.state = status;
  ui.statusText.textContent = status === 'live' ? 'Live'
    : status === 'reconnecting' ? 'Connection lost — reconnecting…'
      : status === 'connecting' ? 'Connecting…' : 'Offline';
  ui.status.title = status === 'live' ? 'Receiving updates in real time' : '';
}

/**
 * Shows a short message at the bottom of the screen.
 * @param {string} message
 * @param {string} [kind] 'error' for failures
 */
function toast(message, kind = '') {
  const t = el('div', { class: 'toast' + (kind ? ' toast-' + kind : ''), role: kind === 'error' ? 'alert' : 'status', text: message });
  ui.toasts.append(t);
  setTimeout(() => t.classList.add('leaving'), 3500);
  setTimeout(() => t.remove(), 4000);
}

// ——— session ———

/**
 * Shows the login form.
 * @param {string} [note] why (session ended, signed out…)
 */
function showLogin(note = '') {
  ui.app.hidden = true;
  ui.login.hidden = false;
  ui.loginError.hidden = true;
  ui.loginNote.hidden = !note;
  ui.loginNote.textContent = note;
  notifier.setSection('Sign in');
  notifier.setUnread(0);
  const user = /** @type {HTMLInputElement} */ (ui.loginForm.elements.namedItem('username'));
  const pass = /** @type {HTMLInputElement} */ (ui.loginForm.elements.namedItem('password'));
  pass.value = '';
  (user.value ? pass : user).focus();
}

/** Starts the console for the stored session. */
function startApp() {
  const s = api.session.get();
  if (!s) {
    showLogin();
    return;
  }
  showMe(s.admin?.displayName || s.admin?.username || 'Admin');
  setRole(s.admin?.role || '');
  // A session from before roles does not know its own: ask.
  if (!s.admin?.role) api.adminMe().then((me) => setRole(me.role), () => {});
  ui.login.hidden = true;
  ui.app.hidden = false;
  armExpiry(s.expiresAt);
  stream.start();
  roster.load();
  // If the stream is slow to open, show the list anyway; it reloads on open.
  listTimer = setTimeout(() => { if (!inbox.loaded) inbox.load(); }, STREAM_GRACE_MS);
  route();
}

/**
 * Goes back to the login form when the token expires, before a request fails.
 * @param {string} expiresAt
 */
function armExpiry(expiresAt) {
  clearTimeout(expiryTimer);
  const left = Date.parse(expiresAt) - Date.now();
  if (left > 0 && left < 2 ** 31) expiryTimer = setTimeout(() => endSession('Your session expired. Please sign in again.'), left);
}

/**
 * Records the signed-in admin's role: owner-only controls show for owners.
 * @param {string} role
 */
function setRole(role) {
  const s = api.session.get();
  if (s && role && s.admin?.role !== role) api.session.set({ ...s, admin: { ...s.admin, role } });
  document.body.dataset.role = role || 'agent';
  if (!ui.teamView.hidden) team.render();
  if (!ui.labelsView.hidden) labelsPage.render();
}

/** @param {string} name the signed-in admin's, in the header */
function showMe(name) {
  ui.me.textContent = name;
  ui.meAvatar.textContent = initials(name);
}

/**
 * Ends the session in this tab and shows the login form.
 * @param {string} note
 */
function endSession(note) {
  clearTimeout(listTimer);
  clearTimeout(expiryTimer);
  stream.stop();
  api.session.clear();
  conversation.clear();
  inbox.clear();
  roster.clear();
  visits.clear();
  canned.clear();
  team.clear();
  webhooks.clear();
  tokens.clear();
  document.body.classList.remove('show-conv', 'details-open');
  for (const d of document.querySelectorAll('dialog[open]')) /** @type {HTMLDialogElement} */ (d).close();
  showLogin(note);
}

api.onUnauthorized(() => endSession('Your session has ended. Please sign in again.'));

ui.loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(ui.loginForm);
  const username = String(form.get('username') || '').trim();
  const password = String(form.get('password') || '');
  if (!username || !password) {
    showLoginError('Enter your username and password.');
    return;
  }
  ui.loginButton.disabled = true;
  ui.loginButton.classList.add('busy');
  ui.loginError.hidden = true;
  try {
    const s = await api.login(username, password);
    api.session.set(s);
    ui.loginNote.hidden = true;
    startApp();
  } catch (err) {
    showLoginError(api.isUnauthorized(err)
      ? 'Wrong username or password.'
      : api.describeError(err));
  } finally {
    ui.loginButton.disabled = false;
    ui.loginButton.classList.remove('busy');
  }
});

/** @param {string} msg */
function showLoginError(msg) {
  ui.loginError.textContent = msg;
  ui.loginError.hidden = false;
  ui.loginNote.hidden = true;
  /** @type {HTMLInputElement} */ (ui.loginForm.elements.namedItem('password')).select();
}

ui.logout.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    // Revoked or expired already, or offline: the token is dropped here anyway.
  }
  endSession('You have signed out.');
});

// ——— routing: #/ (inbox), #/r/<room id>, #/visitors, #/canned, #/team, #/labels, #/webhooks, #/tokens ———

function route() {
  if (ui.app.hidden) return;
  const hash = location.hash || '#/';
  // #/tokens and #/webhooks: shown over the others, which stay as they
  // are beneath.
  const tokensPage = hash === '#/tokens';
  ui.tokensView.hidden = !tokensPage;
  ui.navTokens.setAttribute('aria-current', tokensPage ? 'page' : 'false');
  tokens.setShown(tokensPage);
  if (tokensPage) {
    ui.webhooksView.hidden = true;
    ui.navWebhooks.setAttribute('aria-current', 'false');
    for (const v of [ui.inboxView, ui.visitsView, ui.cannedView, ui.teamView, ui.labelsView]) v.hidden = true;
    for (const n of [ui.navInbox, ui.navVisits, ui.navCanned, ui.navTeam, ui.navLabels]) n.setAttribute('aria-current', 'false');
    labelsPage.hide();
    notifier.setSection('API tokens');
    tokens.load();
    return;
  }
  const webhooksPage = hash === '#/webhooks';
  ui.webhooksView.hidden = !webhooksPage;
  ui.navWebhooks.setAttribute('aria-current', webhooksPage ? 'page' : 'false');
  if (webhooksPage) {
    for (const v of [ui.inboxView, ui.visitsView, ui.cannedView, ui.teamView, ui.labelsView]) v.hidden = true;
    for (const n of [ui.navInbox, ui.navVisits, ui.navCanned, ui.navTeam, ui.navLabels]) n.setAttribute('aria-current', 'false');
    labelsPage.hide();
    notifier.setSection('Webhooks');
    webhooks.load();
    return;
  }
  const visitsPage = hash === '#/visitors';
  const cannedPageShown = hash === '#/canned';
  const teamPage = hash === '#/team';
  const labelsShown = hash === '#/labels';
  ui.inboxView.hidden = visitsPage || cannedPageShown || teamPage || labelsShown;
  ui.labelsView.hidden = !labelsShown;
  ui.navLabels.setAttribute('aria-current', labelsShown ? 'page' : 'false');
  if (!labelsShown) labelsPage.hide();
  ui.visitsView.hidden = !visitsPage;
  ui.cannedView.hidden = !cannedPageShown;
  ui.teamView.hidden = !teamPage;
  ui.navInbox.setAttribute('aria-current', visitsPage || cannedPageShown || teamPage || labelsShown ? 'false' : 'page');
  ui.navVisits.setAttribute('aria-current', visitsPage ? 'page' : 'false');
  ui.navCanned.setAttribute('aria-current', cannedPageShown ? 'page' : 'false');
  ui.navTeam.setAttribute('aria-current', teamPage ? 'page' : 'false');
  if (visitsPage) {
    notifier.setSection('Visitors');
    visits.load();
    return;
  }
  if (cannedPageShown) {
    notifier.setSection('Canned replies');
    cannedPage.show();
    return;
  }
  if (teamPage) {
    notifier.setSection('Team');
    team.load();
    return;
  }
  if (labelsShown) {
    notifier.setSection('Labels');
    labelsPage.show();
    return;
  }
  const m = /^#\/r\/([\w-]{1,64})$/.exec(hash);
  const id = m ? m[1] : '';
  document.body.classList.toggle('show-conv', !!id);
  inbox.select(id);
  if (id) {
    const known = inbox.get(id);
    notifier.setSection(known ? visitorLabel(known) : 'Inbox');
    const focusReply = conversation.id !== id && matchMedia('(pointer: fine)').matches;
    conversation.open(id, known);
    if (focusReply) $('reply').focus({ preventScroll: true });
  } else {
    notifier.setSection('Inbox');
    document.body.classList.remove('details-open');
    conversation.close();
  }
}

window.addEventListener('hashchange', route);

// ——— keyboard ———

bindShortcuts({
  app: ui.app, inboxView: ui.inboxView, dialog: /** @type {HTMLDialogElement} */ ($('confirm-delete')),
  search: $('search'), reply: $('reply'), inbox, conversation, closeDetails,
});

startApp();
