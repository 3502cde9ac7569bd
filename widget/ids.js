// Client-side ids, shared by the widget panel and the console.

/**
 * A fresh idempotency key for a message send: prefix and 24 random hex
 * digits. The API accepts letters, digits and ._:- up to 64 characters
 * (chat.MaxClientID). getRandomValues, unlike randomUUID, works outside
 * secure contexts too.
 * @param {string} [prefix] 'w' for the widget, 'c-' for the console
 * @returns {string}
 */
export function newClientId(prefix = 'c-') {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
