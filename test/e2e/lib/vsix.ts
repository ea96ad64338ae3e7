// Packaging the repository as a .vsix, as `npm run package` does (scripts/package.mjs: vsce with
// the project's flags), into a file of the caller's choice.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths';
import type { Scope } from './scope';

/** `node scripts/package.mjs --out OUT`; returns vsce's "Packaged: …" line. */
export async function packageVsix(scope: Scope, out: string): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--out', out], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_yes: 'false' },
  });
  scope.defer('vsce', () => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', resolve);
    child.once('error', (err) => ((output += err.message), resolve(null)));
  });
  if (code !== 0 || !existsSync(out)) throw new Error(`packaging failed (exit ${code}):\n${output.trim()}`);
  return /Packaged: .*/.exec(output)?.[0] ?? 'packaged';
}
