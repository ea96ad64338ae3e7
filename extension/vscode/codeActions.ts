// Quick fixes from the checker's edits: one preferred fix per netmem diagnostic ("Use
// skb_frag_off(frag)"), "Fix all netmem findings in file" (a quick fix when more than one finding can
// be fixed, and the `source.fixAll.netmem` action for editor.codeActionsOnSave), and the command
// "Netmem: Fix all findings in file".
import * as vscode from 'vscode';
import { diffEdit } from '../core/check/checker';
import { applyFixes } from '../core/check/fix';
import type { Finding } from '../core/check/types';
import { findingsOf, type FindingDiagnostic } from './diagnostics';

export const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append('netmem');
const FIX_ALL_TITLE = 'Fix all netmem findings in file';

function fixTitle(f: Finding): string {
  const fix = f.fix ?? [];
  return fix.length === 1 && fix[0]!.newText.length <= 60 ? `Use ${fix[0]!.newText}` : `Use ${f.helper ?? 'the skb_frag_*() helper'}()`;
}

function sameDiagnostic(a: vscode.Diagnostic, b: vscode.Diagnostic): boolean {
  const code = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? d.code.value : d.code);
  return a.range.isEqual(b.range) && a.message === b.message && code(a) === code(b);
}

/** One edit for every safe fix of the file: the span between the first and the last change. */
function fixAllEdit(doc: vscode.TextDocument, findings: Finding[]): { edit: vscode.WorkspaceEdit; applied: number } | undefined {
  const text = doc.getText();
  const out = applyFixes(text, findings);
  const d = diffEdit(text, out.text);
  if (!d || out.applied === 0) return undefined;
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(doc.positionAt(d.start), doc.positionAt(d.oldEnd)), out.text.slice(d.start, d.newEnd));
  return { edit, applied: out.applied };
}

function fixAllAction(doc: vscode.TextDocument, items: FindingDiagnostic[], kind: vscode.CodeActionKind): vscode.CodeAction | undefined {
  const fixable = items.filter((i) => i.finding.fix?.length);
  const made = fixAllEdit(
    doc,
    fixable.map((i) => i.finding),
  );
  if (!made) return undefined;
  const action = new vscode.CodeAction(FIX_ALL_TITLE, kind);
  action.edit = made.edit;
  action.diagnostics = fixable.map((i) => i.diagnostic);
  return action;
}

class NetmemFixes implements vscode.CodeActionProvider {
  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const wanted = (kind: vscode.CodeActionKind) => !context.only || context.only.contains(kind);
    const items = await findingsOf(doc, !!context.only && wanted(FIX_ALL_KIND));
    if (!items) return [];
    const actions: vscode.CodeAction[] = [];
    if (wanted(vscode.CodeActionKind.QuickFix)) {
      const asked = context.diagnostics.filter((d) => d.source === 'netmem');
      for (const d of asked) {
        const item = items.find((i) => sameDiagnostic(i.diagnostic, d));
        if (!item?.finding.fix?.length) continue;
        const action = new vscode.CodeAction(fixTitle(item.finding), vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        for (const e of item.finding.fix) {
          action.edit.replace(doc.uri, new vscode.Range(e.range.start.line, e.range.start.col, e.range.end.line, e.range.end.col), e.newText);
        }
        action.diagnostics = [item.diagnostic];
        action.isPreferred = true;
        actions.push(action);
      }
      if (asked.length > 0 && items.filter((i) => i.finding.fix?.length).length > 1) {
        const all = fixAllAction(doc, items, vscode.CodeActionKind.QuickFix);
        if (all) actions.push(all);
      }
    }
    // Source actions only when asked for (on save, or from the Source Action menu).
    if (context.only && wanted(FIX_ALL_KIND)) {
      const all = fixAllAction(doc, items, FIX_ALL_KIND);
      if (all) actions.push(all);
    }
    return actions;
  }
}

async function fixAllInFile(): Promise<number> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Netmem: open a C file to fix its findings.');
    return 0;
  }
  const doc = editor.document;
  const items = await findingsOf(doc, true);
  if (!items) {
    void vscode.window.showInformationMessage(`Netmem: ${vscode.workspace.asRelativePath(doc.uri)} is not checked (not a C file, or checking is off: netmem.check.enable).`);
    return 0;
  }
  const made = fixAllEdit(
    doc,
    items.map((i) => i.finding),
  );
  const manual = items.filter((i) => !i.finding.fix?.length).length;
  if (!made) {
    void vscode.window.showInformationMessage(items.length ? `Netmem: none of the ${items.length} findings has a safe automatic fix.` : 'Netmem: no findings in this file.');
    return 0;
  }
  if (!(await vscode.workspace.applyEdit(made.edit))) {
    void vscode.window.showErrorMessage('Netmem: the fixes could not be applied (the file changed meanwhile?).');
    return 0;
  }
  void vscode.window.showInformationMessage(`Netmem: fixed ${made.applied} finding(s)` + (manual ? `; ${manual} need a change by hand.` : '.'));
  return made.applied;
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(
    vscode.languages.registerCodeActionsProvider([{ language: 'c' }, { language: 'cpp', pattern: '**/*.h' }], new NetmemFixes(), {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix, FIX_ALL_KIND],
    }),
    vscode.commands.registerCommand('netmem.fixAllInFile', fixAllInFile),
  );
}
