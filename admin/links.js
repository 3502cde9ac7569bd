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

/**
 * A mailto: link for a visitor's address, each part percent-encoded, so that
 * even a stored value that is not a plain address ("a@b.example?bcc=…", kept
 * from before addresses were checked) names one recipient and no headers.
 * @param {string} addr
 * @returns {string}
 */
export function mailtoURL(addr) {
  const at = addr.lastIndexOf('@');
  if (at < 0) return 'mailto:' + encodeURIComponent(addr);
  return 'mailto:' + encodeURIComponent(addr.slice(0, at)) + '@' + encodeURIComponent(addr.slice(at + 1));
}
