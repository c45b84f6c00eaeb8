import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { completeConfig, hoverConfig } from '../../shared/config-assist.js';
import { type ConfigFormat, formatOf } from '../../shared/config-validate.js';
import { ModelCatalog } from '../configs/model-catalog.js';
import { modelFacts, modelItems } from '../configs/model-items.js';
import { CONFIG_GLOB } from '../ids.js';
import type { IDisposable } from '../lifecycle.js';
import { localFolders } from '../settings.js';
import { type ConfigDiagnostics, DIAGNOSTIC_SOURCE, toRange } from './config-diagnostics.js';

import { CostCodeLens } from './cost-lens.js';
/**
 * Completion, hover, quick fixes and the `Start Fine-tune | Validate` CodeLens for config files.
 * Completion and hover come from the schema through src/shared/config-assist.ts, so the editor,
 * the panel form and `finetune validate` describe keys the same way.
 */
export const CONFIG_SELECTOR: vscode.DocumentSelector = [{ pattern: CONFIG_GLOB }];

class CompletionProvider implements vscode.CompletionItemProvider {
  private readonly models = new ModelCatalog();

  async provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionList> {
    const format = formatOf(doc.fileName);
    const { items, range, valuePath } = completeConfig(doc.getText(), format, position);
    const replace = toRange(range);
    const list = items.map((c) => {
      const item = new vscode.CompletionItem(
        c.label,
        c.kind === 'key' ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.EnumMember,
      );
      item.detail = c.detail;
      if (c.documentation) item.documentation = new vscode.MarkdownString(c.documentation);
      item.insertText = c.insertText;
      // The helper indents nested keys absolutely; VS Code would add the line's indentation again.
      if (c.insertText.includes('\n')) item.keepWhitespace = true;
      item.range = replace;
      // After `key: ` (or a nested block, or a list dash) the value or the next key comes next:
      // suggest it right away.
      if (/\s$/.test(c.insertText)) item.command = { title: 'Suggest', command: 'editor.action.triggerSuggest' };
      return item;
    });
    if (valuePath?.length === 1 && valuePath[0] === 'model')
      list.push(...(await this.modelItems(doc, format, replace)));
    return new vscode.CompletionList(list);
  }

  /** The models found (workspace folders, Hugging Face cache), as `model:` would name them from this config. */
  private async modelItems(
    doc: vscode.TextDocument,
    format: ConfigFormat,
    range: vscode.Range,
  ): Promise<vscode.CompletionItem[]> {
    const roots = localFolders().map((f) => f.uri.fsPath);
    const models = await this.models.list(roots).catch(() => []);
    return modelItems(models, dirname(doc.uri.fsPath)).map((m, i) => {
      const item = new vscode.CompletionItem(m.value, vscode.CompletionItemKind.Module);
      item.detail = modelFacts(m.info);
      item.documentation = new vscode.MarkdownString(`${m.description}\n\n${m.detail}`);
      item.insertText = format === 'json' ? JSON.stringify(m.value) : m.value;
      item.filterText = item.insertText;
      item.range = range;
      // Supported models first, in the scan's order.
      item.sortText = `~${String(i).padStart(4, '0')}`;
      return item;
    });
  }
}

class HoverProvider implements vscode.HoverProvider {
  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const hover = hoverConfig(doc.getText(), formatOf(doc.fileName), position);
    return hover && new vscode.Hover(new vscode.MarkdownString(hover.contents), toRange(hover.range));
  }
}

class QuickFixProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly diagnostics: ConfigDiagnostics) {}

  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const fixes = this.diagnostics.fixesFor(doc.uri, diagnostic);
      for (const fix of fixes) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        const edit = new vscode.WorkspaceEdit();
        for (const e of fix.edits) edit.replace(doc.uri, toRange(e.range), e.newText);
        action.edit = edit;
        action.diagnostics = [diagnostic];
        action.isPreferred = fixes.length === 1;
        actions.push(action);
      }
    }
    return actions;
  }
}

class StartCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, {
        title: '$(play) Start Fine-tune',
        command: 'finetune.startRun',
        arguments: [doc.uri],
      }),
      new vscode.CodeLens(top, { title: 'Validate', command: 'finetune.validateConfig', arguments: [doc.uri] }),
    ];
  }
}

export function registerConfigProviders(diagnostics: ConfigDiagnostics): IDisposable[] {
  const l = vscode.languages;
  return [
    l.registerCompletionItemProvider(CONFIG_SELECTOR, new CompletionProvider(), ':', '"', '-'),
    l.registerHoverProvider(CONFIG_SELECTOR, new HoverProvider()),
    l.registerCodeActionsProvider(CONFIG_SELECTOR, new QuickFixProvider(diagnostics), {
      providedCodeActionKinds: QuickFixProvider.kinds,
    }),
    l.registerCodeLensProvider(CONFIG_SELECTOR, new StartCodeLens()),
    l.registerCodeLensProvider(CONFIG_SELECTOR, new CostCodeLens()),
  ];
}
