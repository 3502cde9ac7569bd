// The team as the console knows it: the agents (for the assign menu and
// names) and the labels (for the label picker, the rows and the filter),
// loaded once per session and kept current by the admin stream.

import * as api from './api.js';

/** @typedef {{id: string, name: string, color: string}} Label */
/** @typedef {{username: string, displayName: string, role?: string}} Agent */

export class Roster {
  constructor() {
    /** @type {Label[]} */
    this.labels = [];
    /** @type {Agent[]} */
    this.agents = [];
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /** @param {() => void} fn called after every change */
  subscribe(fn) {
    this.listeners.add(fn);
  }

  changed() {
    for (const fn of this.listeners) fn();
  }

  /** Loads labels and agents; a failure leaves what is held. */
  async load() {
    const [l, a] = await Promise.allSettled([api.labels(), api.listAgents()]);
    if (l.status === 'fulfilled') this.setLabels(l.value.labels, false);
    if (a.status === 'fulfilled') this.agents = sortAgents(a.value.agents || []);
    this.changed();
  }

  /** @param {Label[]} list @param {boolean} [notify] */
  setLabels(list, notify = true) {
    this.labels = [...(list || [])].sort((x, y) => x.name.localeCompare(y.name, undefined, { sensitivity: 'base' }));
    if (notify) this.changed();
  }

  /** @param {Agent} a added or changed */
  putAgent(a) {
    this.agents = sortAgents([...this.agents.filter((x) => x.username !== a.username), a]);
    this.changed();
  }

  /** @param {string} username removed */
  dropAgent(username) {
    this.agents = this.agents.filter((x) => x.username !== username);
    this.changed();
  }

  /** @param {string} id @returns {Label|undefined} */
  label(id) {
    return this.labels.find((l) => l.id === id);
  }

  /** @param {string} username @returns {string} the agent's display name, or the username */
  agentName(username) {
    const a = this.agents.find((x) => x.username === username);
    return a?.displayName || username;
  }

  clear() {
    this.labels = [];
    this.agents = [];
    this.changed();
  }
}

/** @param {Agent[]} list */
function sortAgents(list) {
  return list.sort((a, b) => (a.displayName || a.username).localeCompare(b.displayName || b.username));
}

/** The one roster of the console. */
export const roster = new Roster();
