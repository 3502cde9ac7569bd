// Attachments in the panel, loaded on first use (an attach, a paste, a drop
// or a message with files): uploads with a progress bar and cancel, and the
// files of messages, fetched with the visitor's token (an <img> cannot send
// it) and shown from blob: URLs.

import { el } from './dom.js';
import { t } from './i18n.js';
import { nearBottom, notify, ui } from './render.js';
import { state } from './store.js';
import { ensureRoom } from './transport.js';

document.head.append(el('link', { rel: 'stylesheet', href: new URL('attach.css', import.meta.url).href }));

/** @type {Map<string, Promise<string>>} a file's URL → its blob: URL */
const blobs = new Map();

/** Fetches a file with the visitor's token. @param {string} url @returns {Promise<string>} a blob: URL */
function fetchFile(url) {
  let p = blobs.get(url);
  if (!p) {
    p = fetch(url, { headers: { Authorization: 'Bearer ' + (state.session && state.session.token) }, credentials: 'omit' })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((b) => URL.createObjectURL(b));
    p.catch(() => blobs.delete(url));
    blobs.set(url, p);
  }
  return p;
}

/** @param {number} n bytes @returns {string} */
function size(n) {
  return n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
}

/**
 * A link that fetches its file on the first click, then follows it.
 * @param {HTMLAnchorElement} a @param {string} url
 */
function lazyLink(a, url) {
  a.addEventListener('click', (e) => {
    if (a.dataset.ready) return;
    e.preventDefault();
    fetchFile(url).then((u) => {
      a.href = u;
      a.dataset.ready = '1';
      a.click();
    }, () => notify(t('fileFailed'), 'send'));
  });
}

/**
 * Fills box with a message's files: images as thumbnails that open full
 * size, other files by name and size with a download link.
 * @param {HTMLElement} box @param {Array<{id: string, name: string, size: number, type: string, url: string, thumbnailUrl?: string}>} files
 */
export function drawFiles(box, files) {
  box.replaceChildren(...files.map((f) => {
    const a = el('a', { class: f.thumbnailUrl ? 'file-img' : 'file', href: '#', title: f.name, target: '_blank', rel: 'noopener',
      download: f.thumbnailUrl ? null : f.name });
    if (f.thumbnailUrl) {
      const img = el('img', { alt: f.name });
      fetchFile(f.thumbnailUrl).then((u) => {
        // The picture grows the list: a list at its end stays there.
        const stick = nearBottom();
        img.onload = () => { if (stick) ui.scroll.scrollTop = ui.scroll.scrollHeight; };
        img.src = u;
      }, () => { img.alt = f.name + ' (' + t('fileFailed') + ')'; });
      a.append(img);
    } else {
      a.append(el('span', { class: 'file-name', dir: 'auto', text: f.name }), el('span', { class: 'file-size', text: size(f.size) }));
    }
    lazyLink(a, f.url);
    return a;
  }));
}

/** What the visitor is told about a refused upload. @param {XMLHttpRequest} x */
function refusal(x) {
  if (x.status === 413) return t('fileTooBig');
  if (x.status === 415) return t('fileType');
  if (x.status === 429) return t('slowDown', { n: parseInt(x.getResponseHeader('Retry-After'), 10) || 30 });
  if (x.status === 503) return t('unavailableKept');
  return t('fileFailed');
}

/**
 * Uploads one file with a progress bar and a cancel button; resolves to its
 * attachment id, or '' (cancelled or refused: the visitor is told why).
 * @param {File} file
 */
async function uploadOne(file) {
  const err = await ensureRoom();
  if (err) {
    notify(err.text, 'send');
    return '';
  }
  const x = new XMLHttpRequest();
  const bar = el('progress', { max: '100', value: '0' });
  const row = el('div', { class: 'upload' }, el('span', { class: 'file-name', dir: 'auto', text: file.name || 'image' }), bar,
    el('button', { type: 'button', class: 'link-btn', text: t('cancel'), onclick: () => x.abort() }));
  ui.uploads.append(row);
  ui.uploads.hidden = false;
  const done = new Promise((resolve) => { x.onloadend = resolve; });
  x.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = String(Math.round(e.loaded / e.total * 100)); };
  x.open('POST', `/api/v1/rooms/${state.session.roomId}/attachments`);
  x.setRequestHeader('Authorization', 'Bearer ' + state.session.token);
  const body = new FormData();
  body.append('file', file, file.name || 'screenshot.png');
  let aborted = false;
  x.onabort = () => { aborted = true; };
  x.send(body);
  await done;
  row.remove();
  ui.uploads.hidden = !ui.uploads.children.length;
  if (x.status === 201) {
    try {
      return JSON.parse(x.responseText).attachment.id;
    } catch (e) {
      /* falls through */
    }
  }
  if (!aborted) notify(x.status ? refusal(x) : t('offline'), 'send');
  return '';
}

/**
 * Uploads files, then sends them in one message.
 * @param {FileList|File[]} files @param {function(string[]): void} send
 */
export async function upload(files, send) {
  const ids = (await Promise.all([...files].slice(0, 10).map(uploadOne))).filter(Boolean);
  if (ids.length) send(ids);
}
