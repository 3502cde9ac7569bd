// The reopen page, /widget/open.html?t=<token>, the link of a visitor's
// mail: it trades the signed, room-bound token for a visitor token of that
// room, stores it where the panel looks for its session on Parley's own
// origin, and shows the panel full page, on any device. It speaks the
// browser's language, as the panel does on its own.

import { loadLocale, pickLocale, t, translate } from './i18n.js';

const msg = document.getElementById('msg');

/** @param {string} text */
function say(text) {
  msg.textContent = text;
}

/** Exchanges the link's token, then opens the panel. */
async function reopen() {
  await loadLocale(pickLocale('', navigator.languages));
  translate(document);
  document.title = t('yourConversation');
  document.documentElement.classList.remove('loading');
  const token = new URLSearchParams(location.search).get('t') || '';
  history.replaceState(null, '', location.pathname); // the token leaves the address bar
  if (!token) return say(t('linkIncomplete'));
  let res;
  try {
    res = await fetch('/api/v1/rooms/open', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token }), cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    return say(t('unreachable'));
  }
  if (res.status === 401) return say(t('linkExpired'));
  if (res.status === 404) return say(t('gone'));
  if (res.status === 403) return say(t('closed'));
  if (!res.ok) return say(t('failedRetry', { status: res.status }));
  const data = await res.json();
  try {
    localStorage.setItem('parley:' + location.origin, JSON.stringify({ roomId: data.room.id, token: data.token }));
  } catch (e) {
    return say(t('storageNeeded'));
  }
  location.replace('frame.html');
}

reopen();
