// Bundles the extension and the CLI (CJS, Node, `vscode` external) and copies the two WebAssembly files
// the checker needs (the tree-sitter runtime and the C grammar) next to the bundle.
// Usage: node esbuild.mjs [--watch] [--minify]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const outdir = join(root, 'dist');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

const wasmFiles = [
  require.resolve('web-tree-sitter/tree-sitter.wasm'),
  require.resolve('tree-sitter-c/tree-sitter-c.wasm'),
];

function copyAssets() {
  mkdirSync(outdir, { recursive: true });
  for (const file of wasmFiles) copyFileSync(file, join(outdir, file.split('/').pop()));
  chmodSync(join(outdir, 'cli.js'), 0o755);
}

/** @type {import('esbuild').Plugin} */
const assets = {
  name: 'netmem-assets',
  setup(build) {
    // web-tree-sitter's ESM build needs import.meta.url, which a CJS bundle lacks: take its CJS build.
    const treeSitterCjs = require.resolve('web-tree-sitter');
    build.onResolve({ filter: /^web-tree-sitter$/ }, () => ({ path: treeSitterCjs }));
    build.onEnd((result) => {
      if (result.errors.length === 0) copyAssets();
      const when = new Date().toLocaleTimeString();
      console.log(`[${when}] build ${result.errors.length ? 'failed' : 'done'}`);
    });
  },
};

const options = {
  absWorkingDir: root,
  entryPoints: { extension: 'extension/extension.ts', cli: 'extension/cli.ts', checkWorker: 'extension/core/check/editorWorker.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'linked',
  minify,
  logLevel: 'warning',
  plugins: [assets],
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('watching for changes…');
} else {
  await esbuild.build(options);
}
