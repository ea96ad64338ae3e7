// "Netmem: Check environment": the core's doctor report as a Markdown document; returns the report.
import * as vscode from 'vscode';
import { doctor, formatDoctorMarkdown, type DoctorReport } from '../core/doctor';
import { loadManifest } from '../core/kernel/manifest';
import { log } from './log';

async function checkEnvironment(): Promise<DoctorReport> {
  const report = await doctor(loadManifest());
  for (const c of report.checks) log()[c.ok ? 'info' : 'warn'](`doctor: ${c.name}: ${c.ok ? 'ok' : 'missing'}: ${c.detail}`);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: formatDoctorMarkdown(report) });
  await vscode.window.showTextDocument(doc, { preview: true });
  return report;
}

export function activate(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(vscode.commands.registerCommand('netmem.doctor', checkEnvironment));
}
