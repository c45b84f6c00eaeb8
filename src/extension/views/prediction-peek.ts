import * as vscode from 'vscode';
import { type PlaygroundResult, resultMarkdown, resultSummary } from '../../shared/playground.js';

/**
 * Where Predict on Selection shows its result: a short after-text on the selection's last line
 * and the whole result in a hover over the selection, opened at once (`editor.action.showHover`).
 * One peek at a time; it goes away when its document is edited or closed, or the next one comes.
 */
const decoration = vscode.window.createTextEditorDecorationType({
  after: { margin: '0 0 0 1em', color: new vscode.ThemeColor('editorCodeLens.foreground') },
  backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'),
});

let current: vscode.Disposable | undefined;

export async function showPredictionPeek(
  editor: vscode.TextEditor,
  range: vscode.Range,
  result: PlaygroundResult,
  model: string,
): Promise<void> {
  current?.dispose();
  const markdown = new vscode.MarkdownString(resultMarkdown(result, model));
  const doc = editor.document;
  editor.setDecorations(decoration, [
    { range, renderOptions: { after: { contentText: `⟶ ${resultSummary(result)}` } } },
  ]);
  const parts: vscode.Disposable[] = [
    vscode.languages.registerHoverProvider(
      // Every document of its scheme, answering for this one only (a path may hold glob characters).
      { scheme: doc.uri.scheme },
      {
        provideHover: (d, position) =>
          d === doc && range.contains(position) ? new vscode.Hover(markdown, range) : undefined,
      },
    ),
    vscode.workspace.onDidChangeTextDocument((e) => e.document === doc && e.contentChanges.length > 0 && clear()),
    vscode.workspace.onDidCloseTextDocument((d) => d === doc && clear()),
  ];
  const peek = vscode.Disposable.from(...parts, { dispose: () => editor.setDecorations(decoration, []) });
  current = peek;
  function clear() {
    peek.dispose();
    if (current === peek) current = undefined;
  }
  // The hover opens where the cursor is: inside the selection (its active end).
  editor.selection = new vscode.Selection(range.start, range.end);
  await vscode.commands.executeCommand('editor.action.showHover');
}
