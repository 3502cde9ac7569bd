// Links made from visitor-supplied text.

/**
 * Keeps only http(s) URLs, for links made from visitor-supplied text.
 * @param {string} raw
 * @returns {URL|null}
 */
export function safeURL(raw) {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}
