// What makes a directory a Linux kernel tree, and which version it is (from its top Makefile).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a kernel tree has: a top-level Makefile and Kconfig and include/linux/skbuff.h. */
export const KERNEL_TREE_FILES = ['Makefile', 'Kconfig', join('include', 'linux', 'skbuff.h')] as const;

/** Which of `files` (default KERNEL_TREE_FILES) `dir` lacks, in order. */
export function missingKernelFiles(dir: string, files: readonly string[] = KERNEL_TREE_FILES): string[] {
  return files.filter((f) => !existsSync(join(dir, f)));
}

export function isKernelTree(dir: string): boolean {
  return missingKernelFiles(dir).length === 0;
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
