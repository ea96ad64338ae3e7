// Fixed locations the end-to-end harness uses. Everything is derived from this file's place in the
// repository (test/e2e/lib/), never from the current directory.
import { join, resolve } from 'node:path';

/** Repository root (the extension development path). */
export const ROOT = resolve(__dirname, '..', '..', '..');
/** test/e2e/ */
export const E2E_DIR = join(ROOT, 'test', 'e2e');
/** Where scripts/setup-e2e.sh installs code-server (gitignored). */
export const SERVER_DIR = join(E2E_DIR, '.server');
/** code-server's Node entry point; run it with this process's `node`. */
export const CODE_SERVER_ENTRY = join(SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
/** The compiled mocha suite (gitignored: test/e2e/out/ is covered by the harness's own cleanup). */
export const SUITE_OUT_DIR = join(E2E_DIR, 'out');
/** Screenshots and other artefacts (gitignored as /.test-output/). */
export const OUTPUT_DIR = join(ROOT, '.test-output', 'e2e');
/** Debian's chromium, driven by playwright-core (never a downloaded browser build). */
export const CHROMIUM = '/usr/bin/chromium';
/** The extension's identifier: `publisher.name` from package.json. */
export const EXTENSION_ID = 'netmem-series.netmem-series';
