// Email in the details panel: whether the server sends mail at all (and how
// to turn it on when it does not), the transcript by mail, and the mail the
// queue gave up on (the dead letters, with the server's reason).

import { el, replaceChildren } from '../widget/dom.js';
import { deadMail, describeError, isUnauthorized, mailStatus as getMailStatus, mailTranscript } from './api.js';
import { icon } from './icons.js';
import { fullTime } from './time.js';

/**
 * Asks the server whether email is on, and for the dead letters when there are any.
 * @returns {Promise<{on: boolean, dead: any[]}|null>} null when it could not be told
 */
async function mailStatus() {
  try {
    const st = await getMailStatus();
    if (!st.enabled) return { on: false, dead: [] };
    return { on: true, dead: st.stats && st.stats.dead ? (await deadMail()).dead : [] };
  } catch {
    return null;
  }
}

/**
 * Fills slot with the email part of a room's details.
 * @param {HTMLElement} slot
 * @param {any} r the room
 */
export async function renderMail(slot, r) {
  const st = await mailStatus();
  if (!st || !slot.isConnected) return;
  if (!st.on) {
    replaceChildren(slot, el('p', { class: 'muted mail-off', text: 'Email is off: set PARLEY_SMTP_URL to send transcripts and notifications (PARLEY_SMTP_URL=log writes them to the log, to try it locally).' }));
    return;
  }
  const to = /** @type {HTMLInputElement} */ (el('input', { type: 'email', maxlength: '254', 'aria-label': 'Send the transcript to', placeholder: r.visitorEmail || 'name@example.com', value: '' }));
  const status = el('p', { class: 'muted', role: 'status' });
  const send = async () => {
    const addr = to.value.trim();
    if (!addr && !r.visitorEmail) {
      status.textContent = 'The visitor gave no email: type an address.';
      return;
    }
    try {
      await mailTranscript(r.id, addr);
      status.textContent = `Transcript queued for ${addr || r.visitorEmail}.`;
    } catch (err) {
      if (!isUnauthorized(err)) status.textContent = describeError(err);
    }
  };
  const parts = [el('div', { class: 'mail-send' }, to,
    el('button', { class: 'btn', type: 'button', 'data-action': 'mail-transcript', onclick: send }, icon('mail'), 'Email transcript')), status];
  if (st.dead.length) {
    parts.push(el('details', { class: 'mail-dead' },
      el('summary', { text: `Undelivered mail (${st.dead.length})` }),
      el('ul', {}, ...st.dead.map((d) => el('li', {},
        el('strong', { text: d.to || d.id }), ' — ', d.subject || '', el('br'),
        el('span', { class: 'muted', text: `${d.reason} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} · ${d.at ? fullTime(d.at) : ''}` }))))));
  }
  replaceChildren(slot, ...parts);
}
