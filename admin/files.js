// Attachments in the console: uploading an agent's files (a progress bar and
// cancel, by button, paste or drop) and drawing a message's files, fetched
// with the admin token (an <img> cannot send it) and shown from blob: URLs.

import { el } from '../widget/dom.js';
import * as api from './api.js';

/** @typedef {{id: string, name: string, size: number, type: string, url: string, thumbnailUrl?: string}} Attachment */

/** @type {Map<string, Promise<string>>} a file's URL → its blob: URL */
const blobs = new Map();

/** @param {string} url @returns {Promise<string>} a blob: URL of the file, fetched with the admin token */
function fetchFile(url) {
  let p = blobs.get(url);
  if (!p) {
    p = fetch(url, { headers: { Authorization: 'Bearer ' + api.session.token() }, credentials: 'omit' })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((b) => URL.createObjectURL(b));
    p.catch(() => blobs.delete(url));
    blobs.set(url, p);
  }
  return p;
}

/** @param {number} n bytes @returns {string} */
export function formatSize(n) {
  return n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
}

/**
 * A message's files: images as thumbnails that open full size, other files
 * by name and size with a download link. A thumbnail grows the thread when
 * it loads: a thread at its end then is kept there.
 * @param {Attachment[]} files
 * @param {{nearBottom(): boolean, scrollToBottom(force: boolean): void}} [thread] the thread the files are drawn in
 * @returns {HTMLElement}
 */
export function drawFiles(files, thread) {
  return el('div', { class: 'files' }, files.map((f) => {
    const a = /** @type {HTMLAnchorElement} */ (el('a', {
      class: f.thumbnailUrl ? 'file-img' : 'file', href: '#', title: f.name, target: '_blank', rel: 'noopener',
      download: f.thumbnailUrl ? null : f.name,
    }));
    if (f.thumbnailUrl) {
      const img = /** @type {HTMLImageElement} */ (el('img', { alt: f.name }));
      fetchFile(f.thumbnailUrl).then((u) => {
        if (thread && thread.nearBottom()) img.addEventListener('load', () => thread.scrollToBottom(true), { once: true });
        img.src = u;
      }, () => { img.alt = f.name + ' (not available)'; });
      a.append(img);
    } else {
      a.append(el('span', { class: 'file-name', dir: 'auto', text: f.name }), el('span', { class: 'file-size', text: formatSize(f.size) }));
    }
    a.addEventListener('click', (e) => {
      if (a.dataset.ready) return;
      e.preventDefault();
      fetchFile(f.url).then((u) => {
        a.href = u;
        a.dataset.ready = '1';
        a.click();
      }, () => {});
    });
    return a;
  }));
}

/** @param {XMLHttpRequest} x @returns {string} why the server refused an upload */
function refusal(x) {
  try {
    const msg = JSON.parse(x.responseText).error.message;
    if (msg) return msg;
  } catch {
    /* falls through */
  }
  return x.status ? 'HTTP ' + x.status : 'the network failed';
}

/**
 * Uploads one file into a room with a progress row in box; resolves to its
 * attachment, or null (cancelled, or refused: toast says why).
 * @param {string} roomId @param {File} file @param {HTMLElement} box @param {(msg: string, kind?: string) => void} toast
 * @returns {Promise<Attachment|null>}
 */
export function uploadFile(roomId, file, box, toast) {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    const bar = el('progress', { max: '100', value: '0' });
    const name = file.name || 'screenshot.png';
    const row = el('div', { class: 'upload' }, el('span', { class: 'file-name', text: name }), bar,
      el('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Cancel', onclick: () => x.abort() }));
    box.append(row);
    box.hidden = false;
    let aborted = false;
    x.onabort = () => { aborted = true; };
    x.upload.onprogress = (e) => { if (e.lengthComputable) bar.setAttribute('value', String(Math.round(e.loaded / e.total * 100))); };
    x.onloadend = () => {
      row.remove();
      box.hidden = !box.children.length;
      if (x.status === 201) {
        try {
          return resolve(JSON.parse(x.responseText).attachment);
        } catch {
          /* falls through */
        }
      }
      if (!aborted) toast(`${name} was not sent — ${refusal(x)}`, 'error');
      resolve(null);
    };
    x.open('POST', '/api/v1/admin/rooms/' + encodeURIComponent(roomId) + '/attachments');
    x.setRequestHeader('Authorization', 'Bearer ' + api.session.token());
    const body = new FormData();
    body.append('file', file, name);
    x.send(body);
  });
}
