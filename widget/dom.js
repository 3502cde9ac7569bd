// Small DOM builders, shared by the widget panel and the console. Text goes
// in through textContent only; there is no way to pass HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * @typedef {Node|string|null|undefined|false|Array<Node|string|null|undefined|false>} Child
 */

/**
 * Builds an element. Props: class, text, dataset, on<Event> listeners;
 * anything else becomes an attribute (true: present, false/null/undefined:
 * left out), never "style" (the CSP forbids inline style).
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/**
 * Builds an SVG element, with the props of el.
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/**
 * Replaces every child of node.
 * @param {Element} node
 * @param {...Child} children
 */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/**
 * @param {Element} node
 * @param {Object<string, any>} props
 */
function applyProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'style') throw new Error('el: inline style is not allowed');
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

/**
 * @param {Element} node
 * @param {Array<Child>} children
 */
function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}
