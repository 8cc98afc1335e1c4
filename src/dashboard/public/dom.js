// @ts-check
// DOM helpers the views share. Data only ever reaches the page through textContent (and
// Chart.js), never through innerHTML.

/**
 * The element with this id, of the expected kind: a missing or renamed element in index.html
 * fails loudly when the module loads instead of later, on a click.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T }} kind e.g. HTMLButtonElement
 * @returns {T}
 */
export function requireElement(id, kind) {
  const element = document.getElementById(id);
  if (!element) throw new Error('missing element #' + id);
  if (!(element instanceof kind)) throw new Error('#' + id + ' is not a ' + kind.name);
  return element;
}

/**
 * Shows a message in an element that is hidden while it has none.
 * @param {HTMLElement} element
 * @param {string} text
 */
export function setMessage(element, text) {
  element.textContent = text;
  element.hidden = !text;
}
