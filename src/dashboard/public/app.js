// @ts-check
// EV fleet dashboard, the entry module: plain browser ES modules, no build step. It talks to the
// /v1 API with an API key (read scope) kept in sessionStorage; imports flow from here down to
// the views, the API client and the helpers, never back.
import { currentApiKey } from './api-key-storage.js';
import { describeError } from './error-messages.js';
import { loadFleet, listenToFleetTable, showFleetError } from './fleet-table.js';
import { askForKey, askForKeyIfRefused, listenForKey, showCheckingKey, showDashboard } from './key-prompt.js';
import { listenToRangeButtons } from './vehicle-view.js';

/** Tries the stored key on the fleet: the dashboard if it is accepted, the prompt again if not. */
async function openDashboard() {
  showCheckingKey();
  try {
    await loadFleet();
  } catch (err) {
    if (askForKeyIfRefused(err)) return;
    // Not the key's fault: show the dashboard with the error on the table.
    showFleetError('The fleet could not be loaded: ' + describeError(err));
  }
  showDashboard();
}

listenForKey(openDashboard);
listenToFleetTable();
listenToRangeButtons();

if (currentApiKey()) void openDashboard();
else askForKey('');
