/**
 * Why a register reading counts no energy or counts from zero (register-chain.repository.ts):
 * - first: no earlier register reading of the device is stored (the baseline, 0 kWh);
 * - reset: the register went down (reboot, replacement, new session): counts from zero;
 * - jump: the increase is above the bound of one interval: stored, counted as 0 kWh.
 */
export const REGISTER_EVENTS = ['first', 'reset', 'jump'] as const;

export type RegisterEvent = (typeof REGISTER_EVENTS)[number];
