import * as vscode from 'vscode';
import { costLenses } from '../../shared/node/config-cost.js';
import { costOf } from '../actions/measure-cost.js';

/**
 * The cost line at the top of a config: `≈ 1.9 GB · ≈ 4 min/epoch on this machine` from the last
 * measurement, or the memory estimate and `Measure time` before one (src/shared/node/config-cost.ts).
 * Clicking either measures (Measure Step Time and Memory).
 */
const changed = new vscode.EventEmitter<void>();

/** After a measurement: the lenses read the cache again. */
export function refreshCostLenses(): void {
  changed.fire();
}

export class CostCodeLens implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses = changed.event;

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = costLenses(await costOf(doc.uri, doc.getText()).catch(() => undefined));
    return lenses.map(
      (l) =>
        new vscode.CodeLens(top, {
          title: l.title,
          tooltip: l.tooltip,
          command: 'finetune.measureCost',
          arguments: [doc.uri],
        }),
    );
  }
}
