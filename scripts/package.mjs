// npm run package (after npm run build): the .vsix with @vscode/vsce, then what went into it.
//   node scripts/package.mjs [--out FILE]     default dist/netmem-series.vsix
// What the package holds is decided by .vscodeignore (an allow-list). README.md's images are
// relative paths to media/screenshots/ (shipped in the package): --no-rewrite-relative-links keeps
// them relative, so VS Code's extension page shows them from the installed extension; vsce would
// otherwise rewrite them against the repository URL, which is not a public host.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = process.argv.slice(2);
let out = join(root, 'dist', 'netmem-series.vsix');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out' && args[i + 1]) out = args[++i];
  else {
    console.error(`usage: node scripts/package.mjs [--out FILE]   (unknown argument ${args[i]})`);
    process.exit(2);
  }
}

const common = ['--no-dependencies', '--no-rewrite-relative-links'];
// No stdin: a question from vsce (e.g. about a missing LICENSE) gets an immediate "no".
const packed = spawnSync(process.execPath, [vsce, 'package', ...common, '--out', out], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (packed.status !== 0) process.exit(packed.status ?? 2);

const listed = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (listed.status !== 0) process.exit(listed.status ?? 2);
const files = listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
const groups = new Map();
for (const f of files) {
  const top = f.includes('/') ? `${f.split('/')[0]}/` : f;
  groups.set(top, (groups.get(top) ?? 0) + 1);
}
const size = statSync(out).size;
console.log(`\n${relative(process.cwd(), out) || out}: ${(size / 1024).toFixed(0)} KiB, ${files.length} files of the extension (+ the 2 manifest files of the .vsix format)`);
for (const [top, n] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) console.log(`  ${top.padEnd(24)} ${n}`);
