// DOM builders, shared by the widget panel and the console. Text goes in
// through textContent only: there is no way to pass HTML.

/** @typedef {Node|string|null|undefined|false|Array<Node|string|null|undefined|false>} Child */

/**
 * Builds an element. Props: class, text, dataset, on<event> listeners; the
 * rest are attributes (true: present; false, null, undefined: left out),
 * never style (the CSP forbids it). Falsy children are left out.
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

/**
 * Builds an SVG element, as el does.
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), props, children);
}

/** @param {Element} node @param {...Child} children */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

function build(node, props, children) {
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
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}
