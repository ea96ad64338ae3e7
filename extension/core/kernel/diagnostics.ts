// Compiler and linker messages from a kernel build as structured records, with paths relative to the
// source checkout whether kbuild printed them relative to the O= directory, the source tree, or absolute.
import { isAbsolute, normalize, relative, resolve } from 'node:path';

export type Severity = 'error' | 'warning' | 'note';

export interface CompilerDiagnostic {
  /** Relative to the checkout when the file is inside it; absolute otherwise. */
  file: string;
  /** 1-based; 0 when the tool gave no line. */
  line: number;
  /** 1-based; 0 when the tool gave no column. */
  column: number;
  severity: Severity;
  message: string;
  /** The warning option, e.g. `-Wunused-variable`, when gcc named one. */
  option?: string;
  /** Where the record came from: gcc, sparse, ld, or make. */
  tool: 'gcc' | 'sparse' | 'ld' | 'make';
}

export interface PathContext {
  /** The kernel source checkout. */
  srcDir: string;
  /** The O= build directory (make runs there), if any. */
  buildDir?: string;
}

// gcc/sparse: file:line:col: severity: message [-Wopt]   (sparse prints no severity for most messages)
const LOCATED = /^(?<file>[^\s:][^:]*?):(?<line>\d+):(?:(?<col>\d+):)?\s+(?<sev>fatal error|error|warning|note):\s+(?<msg>.*)$/;
const SPARSE = /^(?<file>[^\s:][^:]*\.[ch]):(?<line>\d+):(?<col>\d+):\s+(?<msg>(?!error|warning|note)\S.*)$/;
const LD_UNDEF = /^(?:.*\bld(?:\.bfd)?:\s+)?(?<file>[^\s:]+\.o):.*?:\s*(?<msg>undefined reference to .*)$/;
const LD_ERROR = /^(?:\S*\/)?ld(?:\.bfd)?:\s+(?<msg>.*)$/;
const MAKE_ERROR = /^make(?:\[\d+\])?: \*\*\* (?<msg>.*)$/;
const OPTION = /\s+\[(?<opt>-W[^\]]+|-Werror=[^\]]+)\]$/;

/** Maps a path as printed by kbuild to the checkout-relative one. */
export function toCheckoutPath(printed: string, ctx: PathContext): string {
  const src = resolve(ctx.srcDir);
  const abs = isAbsolute(printed) ? normalize(printed) : resolve(ctx.buildDir ?? src, printed);
  const rel = relative(src, abs);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return rel;
  // Generated files live in the build directory (e.g. include/generated/…): keep them absolute.
  return abs;
}

/** Parses build output into records, in order, without duplicates. */
export function parseBuildOutput(text: string, ctx: PathContext): CompilerDiagnostic[] {
  const out: CompilerDiagnostic[] = [];
  const seen = new Set<string>();
  const push = (d: CompilerDiagnostic) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.severity}:${d.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(d);
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '').replace(/\x1b\[[0-9;]*[mK]/g, '');
    let m = LOCATED.exec(line);
    if (m?.groups) {
      const g = m.groups;
      let msg = g.msg!;
      const opt = OPTION.exec(msg);
      if (opt) msg = msg.slice(0, opt.index);
      push({
        file: toCheckoutPath(g.file!, ctx),
        line: Number(g.line),
        column: g.col ? Number(g.col) : 0,
        severity: g.sev === 'fatal error' ? 'error' : (g.sev as Severity),
        message: msg.trim(),
        option: opt?.groups?.opt,
        tool: 'gcc',
      });
      continue;
    }
    m = SPARSE.exec(line);
    if (m?.groups && !/^\s/.test(line)) {
      const g = m.groups;
      push({ file: toCheckoutPath(g.file!, ctx), line: Number(g.line), column: Number(g.col), severity: 'warning', message: g.msg!.trim(), tool: 'sparse' });
      continue;
    }
    m = LD_UNDEF.exec(line);
    if (m?.groups) {
      push({ file: toCheckoutPath(m.groups.file!, ctx), line: 0, column: 0, severity: 'error', message: m.groups.msg!.trim(), tool: 'ld' });
      continue;
    }
    m = LD_ERROR.exec(line);
    if (m?.groups) {
      push({ file: '', line: 0, column: 0, severity: /warning/.test(m.groups.msg!) ? 'warning' : 'error', message: m.groups.msg!.trim(), tool: 'ld' });
      continue;
    }
    m = MAKE_ERROR.exec(line);
    if (m?.groups) {
      // `make: *** [Makefile:1234: vmlinux] Error 2`: the first one is enough; the rest echo it upwards.
      if (!out.some((d) => d.tool === 'make')) push({ file: '', line: 0, column: 0, severity: 'error', message: m.groups.msg!.trim(), tool: 'make' });
    }
  }
  return out;
}

/** gcc's own one-line format, for terminals and problem matchers. */
export function formatDiagnostic(d: CompilerDiagnostic): string {
  const where = d.file ? `${d.file}:${d.line ? `${d.line}:${d.column ? `${d.column}:` : ''}` : ''} ` : `${d.tool}: `;
  return `${where}${d.severity}: ${d.message}${d.option ? ` [${d.option}]` : ''}`;
}

/** Records only in the given checkout-relative files, e.g. the files a patch touches. */
export function inFiles(ds: readonly CompilerDiagnostic[], files: readonly string[]): CompilerDiagnostic[] {
  const set = new Set(files.map((f) => normalize(f)));
  return ds.filter((d) => set.has(normalize(d.file)));
}

/** The same record, ignoring line numbers (for comparing warnings before and after a patch). */
export function warningKey(d: CompilerDiagnostic): string {
  return `${d.file}\u0000${d.severity}\u0000${d.message}\u0000${d.option ?? ''}`;
}
