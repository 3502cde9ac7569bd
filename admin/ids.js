// Idempotency keys for message sends.

/**
 * A fresh idempotency key for a message send (the API accepts
 * letters, digits and ._:- up to 64 characters).
 * @returns {string}
 */
export function newClientId() {
  if (crypto.randomUUID) return 'c-' + crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
