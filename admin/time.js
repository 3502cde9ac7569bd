// Times as the console's lists and details show them, in the user's locale:
// relative ("5m", "Yesterday") and in full. Clock times and day labels are
// the widget's (/widget/dates.js).

import { sameDay } from '../widget/dates.js';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * A compact relative time for lists: "now", "5m", "3h", "Yesterday", "Mon", "Nov 3".
 * @param {string|Date} when
 * @param {Date} [now]
 * @returns {string}
 */
export function relativeTime(when, now = new Date()) {
  const d = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  const diff = now.getTime() - d.getTime();
  if (diff < MINUTE) return 'now';
  if (diff < HOUR) return Math.floor(diff / MINUTE) + 'm';
  if (sameDay(d, now)) return Math.floor(diff / HOUR) + 'h';
  const yesterday = new Date(now.getTime() - DAY);
  if (sameDay(d, yesterday)) return 'Yesterday';
  if (diff < 6 * DAY) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

/** @param {string|Date} when @returns {string} a date and time, "23 Nov 2026, 10:04" */
export function fullTime(when) {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : fullFmt.format(d);
}
