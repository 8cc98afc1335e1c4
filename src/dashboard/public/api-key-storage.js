// @ts-check
// The API key (read scope) lives in the tab's sessionStorage: it survives a reload, not the tab.

const STORAGE_KEY = 'ev-dashboard.api-key';

/** @type {string | null} */
let apiKey = readStoredKey();

function readStoredKey() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** @returns {string | null} */
export function currentApiKey() {
  return apiKey;
}

/** @param {string | null} key null forgets it */
export function storeApiKey(key) {
  apiKey = key;
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the key lives in memory for this page only
  }
}
