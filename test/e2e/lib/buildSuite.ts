// Compiles the mocha suite (test/e2e/suite/*.ts) for the extension host, which requires plain
// CommonJS: one bundle per entry (index.ts and each *.test.ts) in test/e2e/out/suite/, with
// `vscode` (given by the host) and `mocha` (resolved from the repository's node_modules at run
// time) left external, and inline source maps.
//
// Test files are written while the harness runs (by several people at once), so each one is built
// on its own: a file that does not compile is reported as a failure of its own and left out, and
// the others still run. The output directory is only written here, by the one run that holds the
// e2e lock (flock /tmp/netmem-e2e.lock).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { E2E_DIR, ROOT, SUITE_OUT_DIR } from './paths';

export const SUITE_SRC_DIR = join(E2E_DIR, 'suite');

export interface SuiteBuild {
  /** The compiled entry: give it to runTests as extensionTestsPath. */
  entry: string;
  /** The test files that compiled (names of the .ts sources). */
  built: string[];
  /** Test files that did not compile, with esbuild's message. */
  errors: Array<{ file: string; error: string }>;
}

export async function buildSuite(): Promise<SuiteBuild> {
  const outdir = join(SUITE_OUT_DIR, 'suite');
  rmSync(outdir, { recursive: true, force: true });
  const sources = readdirSync(SUITE_SRC_DIR).filter((f) => f === 'index.ts' || f.endsWith('.test.ts')).sort();
  const result: SuiteBuild = { entry: join(outdir, 'index.js'), built: [], errors: [] };
  for (const file of sources) {
    try {
      await build({
        absWorkingDir: ROOT,
        entryPoints: [join(SUITE_SRC_DIR, file)],
        outdir,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode', 'mocha'],
        sourcemap: 'inline',
        sourcesContent: false,
        logLevel: 'silent',
      });
      if (file !== 'index.ts') result.built.push(file);
    } catch (err) {
      // The entry itself is required: without it nothing runs.
      if (file === 'index.ts') throw err;
      const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> }).errors;
      const text = errors?.length
        ? errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join('\n')
        : String(err);
      result.errors.push({ file, error: text });
      rmSync(join(outdir, file.replace(/\.ts$/, '.js')), { force: true });
    }
  }
  return result;
}
