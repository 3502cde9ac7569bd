// Building DOM nodes: elements and SVG with text through textContent only,
// and replacing a node's children.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element. Text goes in through textContent only; there is no way
 * to pass HTML. Props: class, text, dataset, hidden, on<Event> listeners,
 * anything else becomes an attribute (never "style": the CSP forbids it).
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/**
 * Builds an SVG element with createElementNS.
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

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

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/**
 * Replaces every child of node.
 * @param {Element} node
 * @param {...(Node|string|null|undefined|false)} children
 */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}
