// Client ids, shared by the widget panel and the console.

/**
 * A fresh idempotency key for a send: prefix and 24 random hex digits (the
 * API takes [A-Za-z0-9._:-], up to 64). Unlike randomUUID, getRandomValues
 * works outside secure contexts.
 * @param {string} [prefix] 'w' the widget, 'c-' the console
 */
export function newClientId(prefix = 'c-') {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
