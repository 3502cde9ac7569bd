// The admin API client: the session token, one request function that turns
// every non-2xx answer into an ApiError, and one function per endpoint.

const SESSION_KEY = 'parley.admin.session';
const BASE = '/api/v1/admin';

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code the API's error code (e.g. "room_not_found")
   * @param {string} message
   * @param {number} [retryAfter] seconds, from Retry-After on 429
   */
  constructor(status, code, message, retryAfter = 0) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * @typedef {{token: string, expiresAt: string, admin: {username: string, displayName: string, role?: string}}} Session
 */

/** The admin's session, kept in sessionStorage: it ends with the tab. */
export const session = {
  /** @returns {Session|null} */
  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      return s && typeof s.token === 'string' ? s : null;
    } catch {
      return null;
    }
  },
  /** @param {Session} s */
  set(s) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
  /** @returns {string} */
  token() {
    return this.get()?.token || '';
  },
};

let unauthorizedHandler = () => {};

/**
 * Sets what happens on any 401 of an authenticated call (the token expired or
 * was revoked): the app goes back to the login form.
 * @param {() => void} fn
 */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

/**
 * Reports a 401 to the app (the stream uses it too), unless it answers a
 * token that is no longer the session's: a late answer from before a new
 * sign-in must not end the new session.
 * @param {string} token the token the refused request carried
 */
export function reportUnauthorized(token) {
  if (token && token === session.token()) unauthorizedHandler();
}

/**
 * Sends one request and returns the parsed JSON body (null for 204).
 * @param {string} method
 * @param {string} path under /api/v1/admin
 * @param {{body?: any, query?: Object<string, any>, auth?: boolean, signal?: AbortSignal}} [opts]
 * @returns {Promise<any>}
 */
async function request(method, path, opts = {}) {
  const { body, query, auth = true, signal } = opts;
  let url = BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += '?' + qs;
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = session.token();
  if (auth && token) headers.Authorization = 'Bearer ' + token;

  let res;
  try {
    res = await fetch(url, {
      method, headers, signal, cache: 'no-store', credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (res.ok) return data;

  const e = data && data.error ? data.error : {};
  const err = new ApiError(res.status, e.code || 'http_' + res.status, e.message || defaultMessage(res.status),
    Number(res.headers.get('Retry-After')) || 0);
  // A 401 on an authenticated call means the session is gone; the login
  // form gets the news. Login's own 401 is just a wrong password.
  if (res.status === 401 && auth) reportUnauthorized(token);
  throw err;
}

/** @param {number} status */
function defaultMessage(status) {
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status === 503) return 'The chat store is unavailable right now. Try again shortly.';
  if (status >= 500) return 'The server had a problem. Try again.';
  return 'Request failed (' + status + ').';
}

/**
 * Tells whether a call failed because the session ended; the login form
 * takes over then, so the caller shows nothing.
 * @param {unknown} err
 * @returns {boolean}
 */
export function isUnauthorized(err) {
  return err instanceof ApiError && err.status === 401;
}

/**
 * A wait as people say it: seconds up to a minute, whole minutes (rounded
 * up) beyond, so a login locked for 494 s reads "9 minutes".
 * @param {number} seconds
 * @returns {string}
 */
export function describeWait(seconds) {
  if (seconds <= 60) return `${seconds} s`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/**
 * A sentence for the user about a failed call.
 * @param {unknown} err
 * @returns {string}
 */
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Try again.';
  if (err.status === 429) {
    return err.retryAfter ? `Too many requests. Try again in ${describeWait(err.retryAfter)}.` : defaultMessage(429);
  }
  if (err.status === 503) return defaultMessage(503);
  if (err.status >= 500) return defaultMessage(err.status);
  return err.message;
}

/**
 * Signs in. Resolves with the session; a wrong password rejects with a 401.
 * @param {string} username
 * @param {string} password
 * @returns {Promise<Session>}
 */
export function login(username, password) {
  return request('POST', '/login', { body: { username, password }, auth: false });
}

/** Revokes the current token. */
export function logout() {
  return request('POST', '/logout', { auth: true });
}

/**
 * One page of rooms, most recently active first.
 * @param {{filter?: 'all'|'unread', cursor?: string, limit?: number}} q
 * @returns {Promise<{rooms: any[], nextCursor: string, unreadRooms: number}>}
 */
export function listRooms(q = {}) {
  return request('GET', '/rooms', { query: { filter: q.filter, label: q.label, cursor: q.cursor, limit: q.limit } });
}

/**
 * Searches every conversation on the server: visitor name and email, the
 * words of messages and notes; newest first, each with what matched.
 * @param {string} q
 * @param {number} [limit]
 * @param {AbortSignal} [signal] a newer search cancels this one
 * @returns {Promise<{results: {room: any, match: {kind: 'message'|'note'|'visitor', text: string,
 *   seq?: number, sender?: string, author?: string, createdAt?: string}}[], more: boolean}>}
 */
export function search(q, limit, signal) {
  return request('GET', '/search', { query: { q, limit }, signal });
}

/**
 * Opens a room: marks it read for admins and returns the latest messages.
 * @param {string} id
 * @returns {Promise<{room: any, messages: any[]}>}
 */
export function openRoom(id) {
  return request('GET', '/rooms/' + encodeURIComponent(id));
}

/**
 * A page of a room's messages in ascending seq.
 * @param {string} id
 * @param {{after?: number, before?: number, limit?: number}} q
 * @returns {Promise<{messages: any[], hasMore: boolean}>}
 */
export function roomMessages(id, q) {
  return request('GET', '/rooms/' + encodeURIComponent(id) + '/messages', { query: q });
}

/**
 * Sends a reply. The same clientId on a retry never stores it twice.
 * @param {string} id
 * @param {string} content
 * @param {string} clientId
 * @param {string[]} [attachments] ids of uploaded files
 * @returns {Promise<{message: any}>}
 */
export function sendMessage(id, content, clientId, attachments) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/messages', { body: { content, clientId, attachments } });
}

/** @param {string} id marks every message of the room read for admins */
export function markRead(id) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/read');
}

/** @param {string} id tells the visitor an admin is typing */
export function sendTyping(id) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/typing');
}

/**
 * Blocks or unblocks a room's visitor; ipFor (a duration such as "24h")
 * blocks the address the room was opened from too. Unblocking lifts both.
 * @param {string} id @param {boolean} blocked @param {string} [ipFor]
 */
export function setBlocked(id, blocked, ipFor) {
  const body = blocked && ipFor ? { ip: true, for: ipFor } : undefined;
  return request(blocked ? 'POST' : 'DELETE', '/rooms/' + encodeURIComponent(id) + '/block', { body });
}

/** @param {string} id erases the room and everything in it */
export function deleteRoom(id) {
  return request('DELETE', '/rooms/' + encodeURIComponent(id));
}

// ——— the team inbox ———

/**
 * Sets a room's status; until (ISO time) snoozes a pending one.
 * @param {string} id @param {'open'|'pending'|'resolved'} status @param {string} [until]
 * @returns {Promise<{room: any}>}
 */
export function setStatus(id, status, until) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/status', { body: until ? { status, until } : { status } });
}

/**
 * Assigns a room to an agent, or to nobody (null).
 * @param {string} id @param {string|null} username
 * @returns {Promise<{room: any}>}
 */
export function assign(id, username) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/assign', { body: { username } });
}

/**
 * Replaces a room's labels.
 * @param {string} id @param {string[]} labels label ids
 * @returns {Promise<{room: any}>}
 */
export function setRoomLabels(id, labels) {
  return request('PUT', '/rooms/' + encodeURIComponent(id) + '/labels', { body: { labels } });
}

/**
 * Adds a private note, seen by agents only.
 * @param {string} id @param {string} content
 * @returns {Promise<{note: any}>}
 */
export function addNote(id, content) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/notes', { body: { content } });
}

/** @param {string} id tells the other agents this one has the room open */
export function sendViewing(id) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/viewing');
}

/** @returns {Promise<{counts: Record<string, number>}>} the size of every view */
export function roomCounts() {
  return request('GET', '/counts');
}

/** @returns {Promise<{labels: {id: string, name: string, color: string}[]}>} */
export function labels() {
  return request('GET', '/labels');
}

/**
 * @param {{name: string, color?: string}} label
 * @returns {Promise<{label: {id: string, name: string, color: string}}>}
 */
export function createLabel(label) {
  return request('POST', '/labels', { body: label });
}

/** @param {string} id @param {{name?: string, color?: string}} change */
export function updateLabel(id, change) {
  return request('PATCH', '/labels/' + encodeURIComponent(id), { body: change });
}

/** @param {string} id */
export function deleteLabel(id) {
  return request('DELETE', '/labels/' + encodeURIComponent(id));
}

/**
 * The visit report.
 * @param {number} days
 * @returns {Promise<{days: {date: string, views: number, visitors: number}[], total: number, topPages: {path: string, views: number}[]}>}
 */
export function visits(days) {
  return request('GET', '/visits', { query: { days } });
}

/**
 * Whether the server sends mail (PARLEY_SMTP_URL), with the queue's counts when it does.
 * @returns {Promise<{enabled: boolean, hint?: string, stats?: {waiting: number, sending: number, retrying: number, dead: number}}>}
 */
export function mailStatus() {
  return request('GET', '/mail');
}

/**
 * The mail queue's dead letters; a 409 email_off when the server sends no mail.
 * @returns {Promise<{dead: {id: string, roomId: string, to: string, subject: string, attempts: number, reason: string, at: string}[]}>}
 */
export function deadMail() {
  return request('GET', '/mail/dead');
}

/**
 * Mails a room's transcript to `to`, or to the visitor's email when empty.
 * @param {string} id @param {string} [to]
 * @returns {Promise<{id: string}>}
 */
export function mailTranscript(id, to) {
  return request('POST', '/rooms/' + encodeURIComponent(id) + '/transcript', { body: to ? { to } : undefined });
}

/**
 * The signed-in admin's profile.
 * @returns {Promise<{username: string, displayName: string, email: string, notify: string, role: string}>}
 */
export function adminMe() {
  return request('GET', '/me');
}

/**
 * Changes the fields of the admin's profile that `change` names; a bad one is
 * a 400 whose message says which, and changes nothing. A new password (with
 * the current one) ends every older token: the answer carries a new one.
 * @param {{displayName?: string, email?: string, notify?: string, password?: string, currentPassword?: string}} change
 * @returns {Promise<{username: string, displayName: string, email: string, notify: string, role: string, token?: string, expiresAt?: string}>}
 */
export function updateAdminMe(change) {
  return request('PATCH', '/me', { body: change });
}

/**
 * The team's canned replies, sorted by shortcut.
 * @returns {Promise<{canned: import('./canned.js').Canned[]}>}
 */
export function listCanned() {
  return request('GET', '/canned');
}

/**
 * Adds a canned reply: 409 conflict when the shortcut is taken, 409
 * limit_reached at 500.
 * @param {string} shortcut
 * @param {string} body
 * @returns {Promise<{canned: import('./canned.js').Canned}>}
 */
export function addCanned(shortcut, body) {
  return request('POST', '/canned', { body: { shortcut, body } });
}

/**
 * Changes the fields of a canned reply that `change` names.
 * @param {string} id
 * @param {{shortcut?: string, body?: string}} change
 * @returns {Promise<{canned: import('./canned.js').Canned}>}
 */
export function updateCanned(id, change) {
  return request('PATCH', '/canned/' + encodeURIComponent(id), { body: change });
}

/** @param {string} id deletes a canned reply (404 when it is gone) */
export function deleteCanned(id) {
  return request('DELETE', '/canned/' + encodeURIComponent(id));
}

/**
 * @typedef {{username: string, displayName: string, email: string, role: string, online?: boolean}} Agent
 */

/**
 * The team, sorted by username (any agent may read it).
 * @returns {Promise<{agents: Agent[]}>}
 */
export function listAgents() {
  return request('GET', '/agents');
}

/**
 * Adds an account (owners only). Without a password one is generated; the
 * answer carries it, the only time it is shown.
 * @param {{username: string, displayName?: string, email?: string, password?: string, role?: string}} body
 * @returns {Promise<{agent: Agent, password: string}>}
 */
export function createAgent(body) {
  return request('POST', '/agents', { body });
}

/**
 * Changes an account (owners only); password true generates a new one,
 * answered once.
 * @param {string} username
 * @param {{displayName?: string, email?: string, role?: string, password?: string|true}} change
 * @returns {Promise<{agent: Agent, password?: string}>}
 */
export function updateAgent(username, change) {
  return request('PATCH', '/agents/' + encodeURIComponent(username), { body: change });
}

/** @param {string} username removes the account (owners only) */
export function removeAgent(username) {
  return request('DELETE', '/agents/' + encodeURIComponent(username));
}

// ——— webhooks (owners only) ———

/**
 * @typedef {{id: string, url: string, events: string[], createdAt: string, kind?: string, secret?: string,
 *   rotatingUntil?: string, failing?: {since: string, reason: string}}} Webhook
 * @typedef {{id: string, job: string, type: string, attempt: number, at: string, ok: boolean,
 *   status: number, latencyMs: number, response: string, error?: string}} WebhookDelivery
 */

/** @returns {Promise<{webhooks: Webhook[]}>} */
export function listWebhooks() {
  return request('GET', '/webhooks');
}

/**
 * Registers an endpoint (kind 'slack': a Slack notifier); the answer
 * carries a signed endpoint's secret, the only time it is shown.
 * @param {{url: string, events?: string[], kind?: string}} body
 * @returns {Promise<{webhook: Webhook}>}
 */
export function createWebhook(body) {
  return request('POST', '/webhooks', { body });
}

/** @param {string} id */
export function deleteWebhook(id) {
  return request('DELETE', '/webhooks/' + encodeURIComponent(id));
}

/**
 * A new secret, shown once; the old one signs too for a day.
 * @param {string} id
 * @returns {Promise<{webhook: Webhook}>}
 */
export function rotateWebhook(id) {
  return request('POST', '/webhooks/' + encodeURIComponent(id) + '/rotate');
}

/** @param {string} id lifts a failing endpoint's mark */
export function enableWebhook(id) {
  return request('POST', '/webhooks/' + encodeURIComponent(id) + '/enable');
}

/**
 * @param {string} id
 * @returns {Promise<{deliveries: WebhookDelivery[]}>}
 */
export function webhookDeliveries(id) {
  return request('GET', '/webhooks/' + encodeURIComponent(id) + '/deliveries');
}

/**
 * @param {string} id
 * @param {string} job queues that delivery's event again, same webhook-id
 */
export function resendWebhook(id, job) {
  return request('POST', '/webhooks/' + encodeURIComponent(id) + '/deliveries/' + encodeURIComponent(job) + '/resend');
}

// ——— settings ———

/** @returns {Promise<any>} the business hours in effect, their source and state */
export function businessHours() {
  return request('GET', '/settings/hours');
}

/** @param {{timezone: string, week: Object<string, string[]>}} hours @returns {Promise<any>} */
export function saveBusinessHours(hours) {
  return request('PUT', '/settings/hours', { body: hours });
}

/** Forgets the saved hours: the environment's apply again. @returns {Promise<any>} */
export function resetBusinessHours() {
  return request('DELETE', '/settings/hours');
}

/** @param {string} id @returns {Promise<{roomId: string, visitor: any}>} who the room's visitor is */
export function visitorInfo(id) {
  return request('GET', '/rooms/' + encodeURIComponent(id) + '/visitor');
}

// ——— API tokens (owners only) ———

/**
 * @typedef {{id: string, name: string, scopes: string[], createdAt: string, createdBy: string,
 *   lastUsedAt: string|null, token?: string}} APIToken
 */

/** @returns {Promise<{tokens: APIToken[]}>} */
export function listTokens() {
  return request('GET', '/tokens');
}

/**
 * Makes a token; the answer carries it, the only time it is shown.
 * @param {{name: string, scopes: string[]}} body
 * @returns {Promise<{token: APIToken}>}
 */
export function createToken(body) {
  return request('POST', '/tokens', { body });
}

/** @param {string} id revokes the token, at once */
export function revokeToken(id) {
  return request('DELETE', '/tokens/' + encodeURIComponent(id));
}
