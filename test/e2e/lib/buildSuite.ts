// Compiles the mocha suite (test/e2e/suite/*.ts) for the extension host, which requires plain
// CommonJS: one bundle per entry (index.ts and each *.test.ts) in test/e2e/out/suite/, with
// `vscode` (given by the host) and `mocha` (resolved from the repository's node_modules at run
// time) left external, and inline source maps.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { E2E_DIR, ROOT, SUITE_OUT_DIR } from './paths';

export const SUITE_SRC_DIR = join(E2E_DIR, 'suite');

/** Builds the suite; returns the path of its entry (give it to runTests as extensionTestsPath). */
export async function buildSuite(): Promise<string> {
  const outdir = join(SUITE_OUT_DIR, 'suite');
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = readdirSync(SUITE_SRC_DIR)
    .filter((f) => f === 'index.ts' || f.endsWith('.test.ts'))
    .map((f) => join(SUITE_SRC_DIR, f));
  await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
  });
  return join(outdir, 'index.js');
}
