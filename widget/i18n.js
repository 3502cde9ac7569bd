// The panel's words. English is built in and fills any key a catalogue
// lacks; another language is one small module, i18n/<locale>.js, loaded on
// demand, so a visitor downloads only their own. The site owner's overrides
// (data-texts, data-text-*) come last. Every word reaches the page as text.

/** The languages with a catalogue, by primary subtag. */
export const LOCALES = ['en', 'de', 'fr', 'es', 'pt', 'it', 'nl', 'ko', 'ja', 'zh', 'ar'];

/** Languages written right to left. */
const RTL = ['ar'];

/** Overrides longer than this are ignored (the loader passes them in the URL). */
const MAX_TEXTS = 8000;

/** The panel waits this long for its catalogue (it stays hidden meanwhile), then speaks English. */
const LOAD_TIMEOUT = 4000;

/**
 * English, the default and the fallback of every missing key. A value is a
 * string with {name} placeholders, or, where a count appears, an object of
 * Intl.PluralRules categories with at least "other".
 */
export const en = {
  title: 'Chat with us',
  greeting: 'Hi! How can we help you today?',
  chat: 'Chat',
  openChat: 'Open chat',
  closeChat: 'Close chat',
  unread: '{n} unread',
  closeHint: 'Close (Esc)',
  statusIdle: 'Ask us anything',
  online: 'Online now',
  onlineAgent: '{agent} · Online now',
  helping: '{agent} is helping you',
  away: 'Away — we will reply later',
  awayKept: 'No one is online right now. Your messages are kept; we will reply here.',
  awayAsk: "No one is online right now. Leave your email and we'll reply here.",
  awayEmail: "No one is online right now. We'll reply here and by email to {email}.",
  backToday: 'We reply today from {time}.',
  backTomorrow: 'We reply tomorrow from {time}.',
  backOn: 'We reply on {day} from {time}.',
  closedNow: 'Closed right now',
  closedAsk: "Leave your email and we'll answer you.",
  closedEmail: "We'll also answer by email to {email}.",
  yourEmail: 'Your email',
  save: 'Save',
  mailTranscript: 'Email me this conversation',
  mailSent: "We'll email this conversation to {email}.",
  mailUnavailable: 'Email is not available here.',
  emailMessage: 'My email for your answer: {email}',
  deleteConversation: 'Delete this conversation',
  deleteTitle: 'Delete this conversation?',
  deleteText: 'All its messages will be erased, for you and for us. This cannot be undone.',
  cancel: 'Cancel',
  delete: 'Delete',
  deleted: 'Your conversation was deleted.',
  conversation: 'Conversation',
  older: 'Show earlier messages',
  loading: 'Loading…',
  introTitle: 'Let us know who you are',
  optional: '(optional)',
  name: 'Name',
  namePlaceholder: 'Jane Doe',
  email: 'Email',
  emailPlaceholder: 'jane@example.com',
  emailInvalid: 'Please check the email address.',
  typing: '{name} is typing…',
  support: 'Support',
  newMessages: 'New messages ↓',
  message: 'Message',
  placeholder: 'Write a message…',
  send: 'Send message',
  sendHint: 'Send (Enter)',
  keysHint: 'Enter to send · Shift+Enter for a new line',
  today: 'Today',
  yesterday: 'Yesterday',
  sending: 'Sending…',
  seen: 'Seen',
  notSent: 'Not sent.',
  retry: 'Retry',
  discard: 'Discard',
  closed: 'This conversation was closed.',
  closedNew: 'This conversation was closed. You can start a new one any time.',
  ended: 'This conversation has ended. You can start a new one any time.',
  restarted: 'Your previous conversation has ended. Starting a new one.',
  slowDown: { one: 'Slow down a little — you can send again in {n} second.', other: 'Slow down a little — you can send again in {n} seconds.' },
  unavailable: 'Chat is unavailable right now. Please try again in a moment.',
  unavailableKept: 'Chat is unavailable right now. Your text is kept — try again in a moment.',
  unavailableLater: 'Chat is unavailable right now. Please try again later.',
  unreachable: 'Could not reach the chat. Please try again.',
  tooLong: 'This message could not be sent. Is it too long?',
  failed: 'Something went wrong (error {status}). Your text is kept.',
  offline: 'Not sent — you seem to be offline. Your text is kept.',
  attach: 'Attach a file',
  fileTooBig: 'This file is too large to send.',
  fileType: 'This type of file cannot be sent. Send an image, a PDF, a text or an office document.',
  fileFailed: 'The file could not be sent. Try again.',
  retrying: 'Connection lost — retrying…',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  wrongPage: 'This chat cannot run on this page.',
  yourConversation: 'Your conversation',
  opening: 'Opening your conversation…',
  linkIncomplete: 'This link is incomplete. Please open it from the mail again.',
  linkExpired: 'This link has expired or is not valid. You can start a new chat on our site.',
  gone: 'This conversation no longer exists.',
  failedRetry: 'Something went wrong (error {status}). Please try again.',
  storageNeeded: 'This page needs to store the conversation in your browser; please allow site data and try again.',
};

/** The chosen language, a member of LOCALES. */
export let locale = 'en';
let words = en;
let plurals = null;

/**
 * Matches one language tag to a catalogue: by its primary subtag (pt-BR is
 * pt), except that Traditional Chinese (zh-Hant, zh-TW, zh-HK, zh-MO) does
 * not take the Simplified catalogue.
 * @param {string} tag
 * @returns {string} a member of LOCALES, or ''
 */
export function matchLocale(tag) {
  const t = String(tag || '').toLowerCase().replace(/_/g, '-');
  if (/^zh-(hant|tw|hk|mo)\b/.test(t)) return '';
  const primary = t.split('-')[0];
  return LOCALES.includes(primary) ? primary : '';
}

/**
 * The language to speak: the owner's choice when given (English when it has
 * no catalogue), else the first of the browser's languages that has one,
 * else English.
 * @param {?string} wanted data-locale, as the loader passed it
 * @param {ReadonlyArray<string>} browser navigator.languages
 * @returns {string}
 */
export function pickLocale(wanted, browser) {
  if (wanted) return matchLocale(wanted) || 'en';
  for (const tag of browser || []) {
    const l = matchLocale(tag);
    if (l) return l;
  }
  return 'en';
}

/**
 * The owner's overrides: a JSON object of known keys to plain strings, each
 * cut to 500 characters; anything else is left out.
 * @param {?string} json
 * @returns {Object<string, string>}
 */
export function parseTexts(json) {
  const out = {};
  if (!json || json.length > MAX_TEXTS) return out;
  let obj;
  try {
    obj = JSON.parse(json);
  } catch (e) {
    return out;
  }
  if (!obj || typeof obj !== 'object') return out;
  for (const [k, v] of Object.entries(obj)) {
    if (Object.hasOwn(en, k) && typeof v === 'string' && v.trim()) out[k] = v.slice(0, 500);
  }
  return out;
}

/**
 * Loads the catalogue of lang (no request for English) and applies the
 * overrides on top. A catalogue that fails to load, or takes too long,
 * leaves English.
 * @param {string} lang a member of LOCALES
 * @param {Object<string, string>} [overrides]
 */
export async function loadLocale(lang, overrides = {}) {
  let catalogue = {};
  if (lang !== 'en' && LOCALES.includes(lang)) {
    try {
      const late = new Promise((resolve, reject) => setTimeout(reject, LOAD_TIMEOUT));
      catalogue = (await Promise.race([import(`./i18n/${lang}.js`), late])).default;
      locale = lang;
    } catch (e) {
      locale = 'en';
    }
  }
  words = { ...en, ...catalogue, ...overrides };
  plurals = new Intl.PluralRules(locale);
  const root = document.documentElement;
  root.lang = locale === 'zh' ? 'zh-CN' : locale;
  root.dir = RTL.includes(locale) ? 'rtl' : 'ltr';
}

/**
 * The text of key in the chosen language, {name} placeholders filled from
 * vars; a plural text is chosen by vars.n.
 * @param {string} key
 * @param {Object<string, string|number>} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  let s = words[key] === undefined ? en[key] : words[key];
  if (s && typeof s === 'object') s = s[plurals.select(Number(vars.n))] || s.other;
  return String(s).replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
}

/**
 * Puts the words into the page: data-t sets an element's text, data-tp its
 * placeholder, data-tl its aria-label, data-tt its title.
 * @param {ParentNode} root
 */
export function translate(root) {
  for (const [attr, set] of [
    ['t', (e, s) => { e.textContent = s; }],
    ['tp', (e, s) => { e.placeholder = s; }],
    ['tl', (e, s) => e.setAttribute('aria-label', s)],
    ['tt', (e, s) => { e.title = s; }],
  ]) {
    for (const e of root.querySelectorAll(`[data-${attr}]`)) set(e, t(e.dataset[attr]));
  }
}
