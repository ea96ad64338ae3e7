// What makes a directory a Linux kernel tree, and which version it is (from its top Makefile).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A kernel tree has a top-level Makefile and Kconfig and include/linux/skbuff.h. */
export function isKernelTree(dir: string): boolean {
  return ['Makefile', 'Kconfig', join('include', 'linux', 'skbuff.h')].every((f) => existsSync(join(dir, f)));
}

/** `6.1.192` from VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION of the top Makefile; undefined if unreadable. */
export function kernelVersion(dir: string): string | undefined {
  let head: string;
  try {
    head = readFileSync(join(dir, 'Makefile'), 'utf8').slice(0, 4096);
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}\\s*=[ \\t]*(\\S*)`, 'm').exec(head)?.[1];
  const [v, p, s, e] = [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL'), field('EXTRAVERSION')];
  if (!v || p === undefined) return undefined;
  return `${v}.${p}${s && s !== '0' ? `.${s}` : ''}${e ?? ''}`;
}
