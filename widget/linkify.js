// Message text as DOM nodes: text nodes, and links for http(s) URLs only
// (new tab, no referrer, no opener, nofollow). Shared with the console.

const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAIL = /[.,;:!?)\]}'"]+$/;

/**
 * @param {string} text
 * @returns {Node[]}
 */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(TRAIL, '');
    let href;
    try { href = new URL(url).href; } catch { continue; }
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    a.textContent = url;
    out.push(a);
    last = m.index + url.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}
