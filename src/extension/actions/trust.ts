import * as vscode from 'vscode';

/**
 * Workspace Trust: in Restricted Mode the extension reads and validates, but starts no engine
 * (an engine reads the workspace's config and data and runs code paths they choose).
 * Returns true when the action may go on.
 */
export async function requireTrust(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    `Fine-tune cannot ${what} in Restricted Mode: this workspace is not trusted, and the fine-tuning engine only runs in trusted workspaces (Workspace Trust). Config validation keeps working.`,
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
