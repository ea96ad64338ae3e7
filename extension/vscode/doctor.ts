// "Netmem: Check environment": the core's doctor report as a read-only Markdown document (closing it
// asks nothing; running the command again refreshes it); returns the report.
import * as vscode from 'vscode';
import { doctor, formatDoctorMarkdown, type DoctorReport } from '../core/doctor';
import { loadManifest } from '../core/kernel/manifest';
import { log } from './log';

const SCHEME = 'netmem-doctor';
const URI = vscode.Uri.from({ scheme: SCHEME, path: '/Netmem environment.md' });

class ReportDocument implements vscode.TextDocumentContentProvider {
  text = '';
  readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  provideTextDocumentContent(): string {
    return this.text;
  }
}

const content = new ReportDocument();

async function checkEnvironment(): Promise<DoctorReport> {
  const report = await doctor(loadManifest());
  for (const c of report.checks) log()[c.ok ? 'info' : 'warn'](`doctor: ${c.name}: ${c.ok ? 'ok' : 'missing'}: ${c.detail}`);
  content.text = formatDoctorMarkdown(report);
  content.changed.fire(URI);
  const doc = await vscode.workspace.openTextDocument(URI);
  await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
  await vscode.window.showTextDocument(doc, { preview: true });
  return report;
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(
    content.changed,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, content),
    vscode.commands.registerCommand('netmem.doctor', checkEnvironment),
  );
}
