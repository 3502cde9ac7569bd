// The reopen page, /widget/open.html?t=<token>, the link of a visitor's
// mail: it trades the signed, room-bound token for a visitor token of that
// room, stores it where the panel looks for its session on Parley's own
// origin, and shows the panel full page, on any device.

const msg = document.getElementById('msg');

/** @param {string} text */
function say(text) {
  msg.textContent = text;
}

/** Exchanges the link's token, then opens the panel. */
async function reopen() {
  const token = new URLSearchParams(location.search).get('t') || '';
  history.replaceState(null, '', location.pathname); // the token leaves the address bar
  if (!token) return say('This link is incomplete. Please open it from the mail again.');
  let res;
  try {
    res = await fetch('/api/v1/rooms/open', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token }), cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    return say('Could not reach the chat. Please try again in a moment.');
  }
  if (res.status === 401) return say('This link has expired or is not valid. You can start a new chat on our site.');
  if (res.status === 404) return say('This conversation no longer exists.');
  if (res.status === 403) return say('This conversation was closed.');
  if (!res.ok) return say(`Something went wrong (error ${res.status}). Please try again.`);
  const data = await res.json();
  try {
    localStorage.setItem('parley:' + location.origin, JSON.stringify({ roomId: data.room.id, token: data.token }));
  } catch (e) {
    return say('This page needs to store the conversation in your browser; please allow site data and try again.');
  }
  location.replace('frame.html');
}

reopen();
