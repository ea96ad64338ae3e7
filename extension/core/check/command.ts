// `netmem check`: the CLI side of the checker (argument meaning, output, --fix). Exit: 0 no findings,
// 1 findings, 2 could not run (thrown as CheckError / usage errors by the caller).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createChecker, decode } from './checker';
import { applyFixes } from './fix';
import { displayPath, formatGcc, formatJson, formatSarif } from './format';
import { missingKernelFiles } from '../kernel/tree';
import { scanTree } from './scan';
import { CheckError, type Finding } from './types';

export const CHECK_USAGE = `Usage: netmem check [--kernel DIR] [--format gcc|json|sarif] [--fix] [--no-prefilter] [PATH...]

Finds code that touches skb_frag_t internals instead of the skb_frag_*() helpers, and frags used as
struct bio_vec. Field names and helpers come from the kernel tree's own include/linux/skbuff.h;
types from the file, its local headers and a cached index of the tree's headers.

  --kernel DIR     the kernel checkout (default: found above the first PATH, or the current
                   directory when it is one); without one the 5.4–6.8 layout is assumed
  --format F       gcc (default: file:line:col: warning: message [rule]), json or sarif (2.1.0)
  --fix            apply the safe quick fixes in place, then report what is left
  --no-prefilter   parse every file instead of the text prefilter's candidates (slow)
  PATH...          files or directories (default: the whole kernel tree)

Paths are printed relative to the current directory, or to the kernel tree when outside it.
Exit status: 0 no findings, 1 findings, 2 could not run.`;

export interface CheckArgs {
  kernel?: string;
  format: 'gcc' | 'json' | 'sarif';
  fix: boolean;
  noPrefilter: boolean;
  paths: string[];
}

export interface CommandIO {
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
  cwd?: string;
  version: string;
}

/** The checker needs less of a tree than kernel builds do: its skbuff.h and a top Makefile. */
function isKernelTree(dir: string): boolean {
  return missingKernelFiles(dir, ['Makefile', join('include', 'linux', 'skbuff.h')]).length === 0;
}

/** The kernel tree containing `path`, if any. */
export function findKernelTree(path: string): string | undefined {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    return undefined;
  }
  for (;;) {
    if (isKernelTree(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export async function runCheck(args: CheckArgs, io: CommandIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  let kernelDir: string | undefined;
  if (args.kernel) {
    kernelDir = resolve(cwd, args.kernel);
    if (!isKernelTree(kernelDir)) throw new CheckError(`--kernel ${args.kernel}: not a kernel tree (no Makefile and include/linux/skbuff.h)`);
  } else {
    kernelDir = findKernelTree(args.paths.length ? resolve(cwd, args.paths[0]) : cwd);
  }
  const paths = args.paths.length ? args.paths.map((p) => resolve(cwd, p)) : kernelDir ? [kernelDir] : [];
  if (paths.length === 0) throw new CheckError('nothing to check: give PATHs or run inside a kernel tree (or pass --kernel DIR)');
  for (const p of paths) if (!existsSync(p)) throw new CheckError(`${relative(cwd, p) || p}: no such file or directory`);

  const checker = await createChecker({ kernelDir, deferParser: true, onProgress: (m) => io.err(`netmem check: ${m}`) });
  try {
    let result = await scanTree(checker, paths, { signal: io.signal, noPrefilter: args.noPrefilter });
    let fixedFiles = 0;
    let fixedEdits = 0;
    if (args.fix) {
      const byFile = new Map<string, Finding[]>();
      for (const f of result.findings) if (f.fix) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
      for (const [file, fs] of byFile) {
        const buf = readFileSync(file);
        const utf8 = !buf.toString('utf8').includes('\uFFFD');
        const text = decode(buf);
        const out = applyFixes(text, fs);
        if (out.applied > 0 && out.text !== text) {
          writeFileSync(file, Buffer.from(out.text, utf8 ? 'utf8' : 'latin1'));
          fixedFiles++;
          fixedEdits += out.applied;
        }
      }
      if (fixedFiles > 0) result = await scanTree(checker, paths, { signal: io.signal, noPrefilter: args.noPrefilter });
    }
    const base = kernelDir && !(cwd === kernelDir || cwd.startsWith(kernelDir + sep)) && args.format === 'sarif' ? kernelDir : cwd;
    const show = (f: string) => displayPath(f, base, kernelDir);
    if (args.format === 'gcc') for (const l of formatGcc(result.findings, show)) io.out(l);
    else if (args.format === 'json') io.out(formatJson(result.findings, show));
    else io.out(formatSarif(result.findings, show, io.version, isAbsolute(base) ? base : undefined));
    for (const s of result.skipped) io.err(`netmem check: skipped ${show(s.file)}: ${s.reason}`);
    const files = new Set(result.findings.map((f) => f.file)).size;
    io.err(
      `netmem check: ${result.findings.length} finding(s) in ${files} file(s); ${result.files} file(s) scanned, ` +
        `${result.candidates} parsed, ${result.skipped.length} skipped, ${(result.ms / 1000).toFixed(2)} s` +
        (args.fix ? `; fixed ${fixedEdits} access(es) in ${fixedFiles} file(s)` : '') +
        ` [${checker.era.label}]`,
    );
    return result.findings.length ? 1 : 0;
  } finally {
    checker.dispose();
  }
}
