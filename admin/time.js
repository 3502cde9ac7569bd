// Times as the console shows them: relative for lists, clock times, full
// dates and the labels of day separators, in the user's locale.

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const yearDateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** @param {Date} a @param {Date} b */
function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

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

/** @param {string|Date} when @returns {string} "10:04" in the user's locale */
export function clockTime(when) {
  return timeFmt.format(new Date(when));
}

/** @param {string|Date} when @returns {string} a date and time, "23 Nov 2026, 10:04" */
export function fullTime(when) {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : fullFmt.format(d);
}

/**
 * The label of a day separator: "Today", "Yesterday", "Monday, November 3"
 * (with the year when it is not this year).
 * @param {string|Date} when
 * @param {Date} [now]
 * @returns {string}
 */
export function dayLabel(when, now = new Date()) {
  const d = new Date(when);
  if (sameDay(d, now)) return 'Today';
  if (sameDay(d, new Date(now.getTime() - DAY))) return 'Yesterday';
  return d.getFullYear() === now.getFullYear() ? longDateFmt.format(d) : yearDateFmt.format(d);
}

/** @param {string|Date} when @returns {string} a local calendar-day key */
export function dayKey(when) {
  const d = new Date(when);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}
