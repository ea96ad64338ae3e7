// What this machine has for the netmem workflow: the checker's grammar, git, and the kernel toolchain.
import { existsSync } from 'node:fs';
import { createCParser } from './check/parser';
import { defaultBaseDir } from './kernel/base';
import type { BaseManifest } from './kernel/manifest';
import { run, which } from './util/process';

export interface Check {
  name: string;
  ok: boolean;
  /** A failed required check makes the report fail; others only inform. */
  required: boolean;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: Check[];
}

const KERNEL_TOOLS: Array<[program: string, debianPackage: string]> = [
  ['gcc', 'gcc'],
  ['make', 'make'],
  ['flex', 'flex'],
  ['bison', 'bison'],
  ['bc', 'bc'],
  ['cpio', 'cpio'],
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['ccache', 'ccache'],
  ['sparse', 'sparse'],
];

async function grammarCheck(): Promise<Check> {
  const name = 'grammar';
  try {
    const parser = await createCParser();
    const tree = parser.parse('struct s { int a; }; int f(struct s *p) { return p->a; }');
    const ok = tree !== null && tree.rootNode.type === 'translation_unit' && !tree.rootNode.hasError;
    const detail = ok ? 'ok' : `parse failed: ${tree?.rootNode.toString() ?? 'no tree'}`;
    tree?.delete();
    parser.delete();
    return { name, ok, required: true, detail };
  } catch (e) {
    return { name, ok: false, required: true, detail: (e as Error).message };
  }
}

async function versionOf(program: string): Promise<string | undefined> {
  const path = await which(program);
  if (!path) return undefined;
  const r = await run(path, ['--version'], { timeoutMs: 5000 }).catch(() => undefined);
  return (r?.stdout || r?.stderr || '').split('\n')[0].trim() || path;
}

export async function doctor(manifest: BaseManifest): Promise<DoctorReport> {
  const checks: Check[] = [];
  checks.push({ name: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, required: true, detail: `Node ${process.versions.node}` });
  checks.push(await grammarCheck());
  const git = await versionOf('git');
  checks.push({ name: 'git', ok: git !== undefined, required: true, detail: git ?? 'not found: apt-get install git' });
  const tools = await Promise.all(KERNEL_TOOLS.map(async ([p, pkg]) => [p, pkg, await which(p)] as const));
  const missing = tools.filter(([, , path]) => !path);
  checks.push({
    name: 'kernel-tools',
    ok: missing.length === 0,
    required: false,
    detail: missing.length === 0 ? tools.map(([p]) => p).join(', ') : `missing ${missing.map(([p]) => p).join(', ')}: apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')}`,
  });
  const tarball = existsSync(manifest.tarball);
  checks.push({ name: 'base-source', ok: tarball, required: false, detail: tarball ? manifest.tarball : `${manifest.tarball} missing: apt-get install ${manifest.package}` });
  const dir = defaultBaseDir(manifest);
  const prepared = existsSync(`${dir}/.git`);
  checks.push({ name: 'base-checkout', ok: prepared, required: false, detail: prepared ? dir : `not prepared yet (netmem base): ${dir}` });
  return { ok: checks.every((c) => c.ok || !c.required), checks };
}

/** Title of each check, as shown to people. */
export const CHECK_TITLES: Record<string, string> = {
  node: 'Node.js',
  grammar: 'C grammar (tree-sitter-c)',
  git: 'git',
  'kernel-tools': 'Kernel build tools',
  'base-source': 'Pinned base source',
  'base-checkout': 'Pinned base checkout',
};

export function formatDoctorMarkdown(report: DoctorReport): string {
  const lines = ['# Netmem environment', ''];
  for (const c of report.checks) {
    const status = c.ok ? 'ok' : c.required ? 'FAILED' : 'missing';
    lines.push(`- ${CHECK_TITLES[c.name] ?? c.name}: ${status}${c.ok && c.detail === 'ok' ? '' : ` — ${c.detail}`}`);
  }
  lines.push('', report.ok ? 'Everything the extension needs is here.' : 'Something the extension needs is missing (see FAILED above).', '');
  return lines.join('\n');
}
