// Diagnostics while editing: every open C document (a .c, or a .h however it is classified) is checked
// as it is opened and as it is typed in, debounced (`netmem.check.debounceMs`). The checking runs in
// the check worker (core/check/editorWorker.ts), which holds each document's text, follows the
// editor's content changes and re-parses incrementally, so the extension host never parses. Files
// inside the linked kernel checkout use its header index and era, any other C file the 5.4–6.8 layout.
//
// The one DiagnosticCollection also holds "Check workspace" results (publishScan): an open document's
// own findings replace its scan entry, and when it is closed its file is checked again from disk.
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { decode } from '../core/check/checker';
import { EditorCheckWorker } from '../core/check/editorClient';
import type { ContentChange } from '../core/check/editorWorker';
import type { Finding } from '../core/check/types';
import { log } from './log';
import { kernelDir, onDidChangeKernel } from './workspace';

export interface FindingDiagnostic {
  diagnostic: vscode.Diagnostic;
  finding: Finding;
}

interface Live {
  doc: vscode.TextDocument;
  path: string;
  timer?: NodeJS.Timeout;
  checked?: { version: number; items: FindingDiagnostic[] };
  running?: Promise<void>;
  again: boolean;
}

let worker: EditorCheckWorker | undefined;
let collection: vscode.DiagnosticCollection | undefined;
let rulesDir: vscode.Uri | undefined;
const live = new Map<string, Live>();
/** Files whose entry in the collection comes from the last workspace scan, and that scan's roots. */
const scanned = new Set<string>();
let scanRoots: string[] = [];
const checkedEmitter = new vscode.EventEmitter<vscode.Uri>();

/** Fires when an open document's findings are up to date with a version of it. */
export const onDidCheck = checkedEmitter.event;

/** The shared check worker (also used by "Check workspace"). */
export function checkWorker(): EditorCheckWorker {
  if (!worker) {
    worker = new EditorCheckWorker((m) => log().warn(`netmem check worker: ${m}`));
    worker.onDidRecheck((r) => {
      const entry = [...live.values()].find((e) => e.path === r.path);
      log().trace(`netmem check: ${r.path} v${r.version}: findings changed on the full reparse`);
      if (entry && !entry.running && r.version === entry.doc.version) publish(entry, r.version, r.findings);
    });
  }
  return worker;
}

function enabled(): boolean {
  return vscode.workspace.getConfiguration('netmem.check').get<boolean>('enable', true);
}

function debounceMs(): number {
  const ms = vscode.workspace.getConfiguration('netmem.check').get<number>('debounceMs', 150);
  return Number.isFinite(ms) && ms >= 0 ? ms : 150;
}

function isCheckable(doc: vscode.TextDocument): boolean {
  if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return false;
  return doc.languageId === 'c' || (doc.languageId === 'cpp' && doc.uri.path.endsWith('.h'));
}

/** The linked checkout when `path` is inside it. */
export function kernelFor(path: string): string | undefined {
  const k = kernelDir();
  return k && path.startsWith(k.endsWith(sep) ? k : k + sep) ? k : undefined;
}

/** A finding as a VS Code diagnostic: the rule id as code, linking to its page under docs/rules/. */
export function toDiagnostic(f: Finding): vscode.Diagnostic {
  const r = f.range;
  const d = new vscode.Diagnostic(new vscode.Range(r.start.line, r.start.col, r.end.line, r.end.col), f.message, vscode.DiagnosticSeverity.Warning);
  d.source = 'netmem';
  d.code = rulesDir ? { value: f.rule, target: vscode.Uri.joinPath(rulesDir, `${f.rule}.md`) } : f.rule;
  if (f.related?.length) {
    d.relatedInformation = f.related
      .filter((rel) => rel.file.startsWith('/'))
      .map((rel) => {
        const rr = rel.range;
        return new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(rel.file), new vscode.Range(rr.start.line, rr.start.col, rr.end.line, rr.end.col)), rel.message);
      });
  }
  return d;
}

function publish(entry: Live, version: number, findings: Finding[]): void {
  const items = findings.map((finding) => ({ finding, diagnostic: toDiagnostic(finding) }));
  entry.checked = { version, items };
  scanned.delete(entry.doc.uri.toString());
  collection?.set(
    entry.doc.uri,
    items.map((i) => i.diagnostic),
  );
  checkedEmitter.fire(entry.doc.uri);
}

/** Ask the worker for the document's findings; when it does not hold the document, send it whole. */
async function check(entry: Live): Promise<void> {
  const w = checkWorker();
  let r = await w.check(entry.path);
  if (r.type === 'unknown') {
    w.open(entry.path, entry.doc.version, entry.doc.getText(), kernelFor(entry.path));
    r = await w.check(entry.path);
  }
  if (r.type !== 'checked') return;
  if (r.skipped) log().info(`netmem check: ${entry.path}: ${r.skipped}`);
  log().trace(`netmem check: ${entry.path} v${r.version}: ${r.findings.length} finding(s) in ${r.ms.toFixed(1)} ms${r.incremental ? ' (incremental)' : ''}`);
  if (live.get(entry.doc.uri.toString()) === entry && r.version === entry.doc.version) publish(entry, r.version, r.findings);
}

/** At most one check of a document in flight; a request meanwhile makes one more run after it. */
function run(entry: Live): Promise<void> {
  if (entry.running) {
    entry.again = true;
    return entry.running;
  }
  entry.running = (async () => {
    try {
      do {
        entry.again = false;
        await check(entry);
      } while (entry.again && live.get(entry.doc.uri.toString()) === entry);
    } catch (e) {
      log().warn(`netmem check of ${entry.path} failed: ${(e as Error).message}`);
    } finally {
      entry.running = undefined;
    }
  })();
  return entry.running;
}

function schedule(entry: Live, delay: number): void {
  clearTimeout(entry.timer);
  entry.timer = setTimeout(() => void run(entry), delay);
}

function track(doc: vscode.TextDocument): void {
  const key = doc.uri.toString();
  untrack(doc, false);
  if (!enabled() || !isCheckable(doc)) return;
  const path = doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.path;
  const entry: Live = { doc, path, again: false };
  live.set(key, entry);
  checkWorker().open(path, doc.version, doc.getText(), kernelFor(path));
  schedule(entry, 0);
}

function untrack(doc: vscode.TextDocument, restoreScan: boolean): void {
  const key = doc.uri.toString();
  const entry = live.get(key);
  if (!entry) return;
  clearTimeout(entry.timer);
  live.delete(key);
  worker?.close(entry.path);
  collection?.delete(doc.uri);
  if (restoreScan && doc.uri.scheme === 'file' && scanRoots.some((r) => entry.path === r || entry.path.startsWith(r + sep))) void recheckFromDisk(doc.uri);
}

/** A closed file that the last workspace scan covered: its findings as it is on disk. */
async function recheckFromDisk(uri: vscode.Uri): Promise<void> {
  try {
    const text = decode(await readFile(uri.fsPath));
    const r = await checkWorker().checkOnce(uri.fsPath, text, kernelFor(uri.fsPath));
    if (r.type !== 'checked' || live.has(uri.toString())) return;
    collection?.set(uri, r.findings.map(toDiagnostic));
    scanned.add(uri.toString());
  } catch (e) {
    log().info(`netmem check: ${uri.fsPath} not re-checked after closing: ${(e as Error).message}`);
  }
}

function onChange(e: vscode.TextDocumentChangeEvent): void {
  const entry = live.get(e.document.uri.toString());
  if (!entry || e.contentChanges.length === 0) return;
  const doc = e.document;
  const changes: ContentChange[] = e.contentChanges.map((c) => ({ offset: c.rangeOffset, length: c.rangeLength, text: c.text }));
  // The length from the line table (no copy of the text), for the worker to cross-check its copy.
  const length = doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
  checkWorker().change(entry.path, doc.version, length, changes);
  entry.checked = undefined;
  schedule(entry, debounceMs());
}

/**
 * The findings of `doc` with their diagnostics, when they are of its current version; with `wait`,
 * checks it first if they are not.
 */
export async function findingsOf(doc: vscode.TextDocument, wait = false): Promise<FindingDiagnostic[] | undefined> {
  const entry = live.get(doc.uri.toString());
  if (!entry) return undefined;
  if (entry.checked?.version !== doc.version && wait) {
    clearTimeout(entry.timer);
    await run(entry);
  }
  return entry.checked?.version === doc.version ? entry.checked.items : undefined;
}

/**
 * Puts a workspace scan's findings into the Problems view. Files open in an editor keep their own
 * (newer) findings; entries of the previous scan that are clean now are removed.
 */
export function publishScan(findings: Finding[], roots: string[]): void {
  const byFile = new Map<string, Finding[]>();
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  for (const key of scanned) {
    if (!live.has(key)) collection?.delete(vscode.Uri.parse(key));
  }
  scanned.clear();
  for (const [file, fs] of byFile) {
    const uri = vscode.Uri.file(file);
    if (live.has(uri.toString())) continue;
    collection?.set(uri, fs.map(toDiagnostic));
    scanned.add(uri.toString());
  }
  scanRoots = roots;
}

function trackAll(): void {
  for (const doc of vscode.workspace.textDocuments) track(doc);
}

export function activate(ctx: vscode.ExtensionContext): void {
  rulesDir = vscode.Uri.joinPath(ctx.extensionUri, 'docs', 'rules');
  collection = vscode.languages.createDiagnosticCollection('netmem');
  ctx.subscriptions.push(
    collection,
    checkedEmitter,
    { dispose: () => (worker?.dispose(), (worker = undefined)) },
    { dispose: () => live.forEach((e) => clearTimeout(e.timer)) },
    vscode.workspace.onDidOpenTextDocument(track),
    vscode.workspace.onDidCloseTextDocument((doc) => untrack(doc, true)),
    vscode.workspace.onDidChangeTextDocument(onChange),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('netmem.check.enable')) return;
      if (enabled()) trackAll();
      else for (const entry of [...live.values()]) untrack(entry.doc, false);
    }),
    // Another checkout: other headers and era, so every document is sent and checked again.
    onDidChangeKernel(trackAll),
  );
  trackAll();
}
