// Kept only for admin/stream.js, which imports sleep from here and is not
// the console split's to edit: once it imports './sleep.js', delete this file.

export { sleep } from './sleep.js';
