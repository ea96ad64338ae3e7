// Wires the feature adapters; each owns its commands and disposables.
import type * as vscode from 'vscode';
import * as apply from './vscode/apply';
import * as base from './vscode/base';
import * as checkWorkspace from './vscode/checkWorkspace';
import * as codeActions from './vscode/codeActions';
import * as diagnostics from './vscode/diagnostics';
import * as doctor from './vscode/doctor';
import * as kernel from './vscode/kernel';
import * as log from './vscode/log';
import * as openSeries from './vscode/openSeries';
import * as seriesNav from './vscode/seriesNav';
import * as seriesView from './vscode/seriesView';
import * as tasks from './vscode/tasks';
import * as testing from './vscode/testing';
import * as workspace from './vscode/workspace';

export function activate(ctx: vscode.ExtensionContext): void {
  for (const feature of [log, workspace, doctor, base, kernel, apply, diagnostics, codeActions, checkWorkspace, tasks, testing, seriesView, seriesNav, openSeries]) feature.activate(ctx);
}

export function deactivate(): void {}
