// Locating the files the extension ships beside its code (kernel-ref/, patches/, the wasm files),
// whether running from the esbuild bundle in dist/ or from the TypeScript sources under tsx.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/** The package root: the nearest directory above this code whose package.json is ours. */
export function packageRoot(from: string = __dirname): string {
  if (cachedRoot && from === __dirname) return cachedRoot;
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'netmem-series') {
          if (from === __dirname) cachedRoot = dir;
          return dir;
        }
      } catch {
        /* not ours */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`netmem-series: cannot find the package root above ${from}`);
    dir = up;
  }
}

/** Where the built wasm files live: dist/ of the package. */
export function wasmDir(): string {
  return join(packageRoot(), 'dist');
}

export function kernelRefDir(): string {
  return join(packageRoot(), 'kernel-ref');
}

/**
 * The project's cache directory: `$XDG_CACHE_HOME/netmem-series` (an absolute XDG_CACHE_HOME only,
 * as the XDG spec says), else `~/.cache/netmem-series`. Base checkout, builds, bisect worktrees,
 * compiled guest programs and the checker's header index all live below it.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(cache, 'netmem-series');
}
