// Wires the feature adapters; each owns its commands and disposables.
import type * as vscode from 'vscode';
import * as base from './vscode/base';
import * as doctor from './vscode/doctor';
import * as log from './vscode/log';
import * as pending from './vscode/pending';
import * as workspace from './vscode/workspace';

export function activate(ctx: vscode.ExtensionContext): void {
  for (const feature of [log, workspace, doctor, base, pending]) feature.activate(ctx);
}

export function deactivate(): void {}
