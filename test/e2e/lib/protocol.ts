// What the suite (in the extension host) and the harness (launcher, run.ts) agree on.

/**
 * The workbench hands the launcher the extension host's console output and its own log through
 * one channel (window.codeAutomationLog); with NETMEM_E2E_RELAY=1 the suite prefixes each of its
 * reporter lines with this, and the launcher prints exactly those lines (without the prefix).
 */
export const RELAY_PREFIX = '[netmem-e2e] ';

/** Written by the suite to the file named by NETMEM_E2E_RESULT when it ends. */
export interface SuiteResult {
  passed: number;
  failed: number;
  pending: number;
  failures: Array<{ title: string; error: string }>;
  durationMs: number;
}
