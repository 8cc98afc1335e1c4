// @ts-check
// The page shows either the API-key prompt or the dashboard. A refused key anywhere brings the
// prompt back with the reason.
import { isAuthError } from './api-error.js';
import { storeApiKey } from './api-key-storage.js';
import { requireElement, setMessage } from './dom.js';
import { refusedKeyMessage } from './error-messages.js';
import { state } from './state.js';

const authPanel = requireElement('auth-panel', HTMLElement);
const keyForm = requireElement('key-form', HTMLFormElement);
const keyInput = requireElement('api-key', HTMLInputElement);
const keySubmit = requireElement('key-submit', HTMLButtonElement);
const authError = requireElement('auth-error', HTMLElement);
const changeKey = requireElement('change-key', HTMLButtonElement);
const dashboard = requireElement('dashboard', HTMLElement);

/**
 * Forgets the key and asks for another one.
 * @param {string} message why, or '' for none
 */
export function askForKey(message) {
  storeApiKey(null);
  // Answers to the old key must not show up after the new one is entered.
  state.fleetRequests.dropPending();
  state.vehicleRequests.dropPending();
  dashboard.hidden = true;
  changeKey.hidden = true;
  authPanel.hidden = false;
  keySubmit.disabled = false;
  keySubmit.textContent = 'Open dashboard';
  setMessage(authError, message);
  keyInput.value = '';
  keyInput.focus();
}

/**
 * Brings the prompt back if the API refused the key; any other error is the caller's to show.
 * @param {unknown} err
 * @returns {boolean} whether it was the key
 */
export function askForKeyIfRefused(err) {
  if (!isAuthError(err)) return false;
  askForKey(refusedKeyMessage(err));
  return true;
}

/** While the first request tries a new key. */
export function showCheckingKey() {
  keySubmit.disabled = true;
  keySubmit.textContent = 'Checking…';
  setMessage(authError, '');
}

export function showDashboard() {
  authPanel.hidden = true;
  dashboard.hidden = false;
  changeKey.hidden = false;
  keySubmit.disabled = false;
  keySubmit.textContent = 'Open dashboard';
  document.body.dataset.state = 'ready';
}

/**
 * Stores a key entered in the prompt and hands on to `open`; "Change API key" asks again.
 * @param {() => Promise<void>} open
 */
export function listenForKey(open) {
  keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    if (!key) {
      setMessage(authError, 'Enter an API key.');
      return;
    }
    storeApiKey(key);
    keyInput.value = '';
    void open();
  });
  changeKey.addEventListener('click', () => askForKey(''));
}
