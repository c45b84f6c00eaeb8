import { CONFIG_SCHEMA } from '../shared/config-schema.js';
import type { Diagnostic } from '../shared/config-tree.js';
import { toValue } from '../shared/config-tree.js';
import { parseConfigText, validateConfigText } from '../shared/config-validate.js';
import type { ConfigState, JsonValue } from '../shared/messages.js';
import { type Control, checkbox, dropdown, fieldLabel, textField } from './components.js';
import { clear, h, richText } from './dom.js';
import {
  diagnosticsByField,
  type FieldSpec,
  fieldText,
  formSections,
  type GroupSpec,
  parseFieldText,
  pathKey,
  valueAt,
} from './form-model.js';

/**
 * The hyperparameter form, generated from the config schema (form-model.ts) and kept in step with
 * the file: each `config` message from the host sets the fields' values and messages; each change
 * a user commits goes out as one edit of one path, which the host applies to the file. The file
 * stays the single source of truth: the form never shows a value the file does not have.
 */
export type EditHandler = (path: string[], value: JsonValue | undefined) => void;

interface FieldView {
  spec: FieldSpec;
  row: HTMLElement;
  message: HTMLElement;
  /** Shows a value from the file (undefined: not set). */
  show(value: unknown): void;
  /** Whether the user is in the middle of typing here: a file update must not overwrite it. */
  busy(): boolean;
}

export class ConfigForm {
  readonly element = h('div', { class: 'config-form' });
  private readonly fields = new Map<string, FieldView>();
  private readonly groupMessages = new Map<string, HTMLElement>();
  private readonly methodGroups: { method: string; element: HTMLElement }[] = [];
  private readonly header = h('div', { class: 'form-header' });
  private readonly summary = h('ul', { class: 'diagnostics', 'aria-label': 'Problems in the config file' });
  private readonly body = h('div', { class: 'form-body' });

  constructor(private readonly onEdit: EditHandler) {
    this.element.append(this.header, this.summary, this.body);
    for (const section of formSections(CONFIG_SCHEMA)) this.body.append(this.renderGroup(section, 2));
  }

  /** Paths of every field, for tests and for the diagnostics mapping. */
  get fieldKeys(): ReadonlySet<string> {
    return new Set(this.fields.keys());
  }

  update(config: ConfigState | undefined): void {
    clear(this.header);
    if (!config) {
      this.header.append(h('p', { class: 'muted' }, 'No config file is open for these runs: the form is read-only.'));
      this.element.classList.add('no-config');
      this.update0(undefined, []);
      return;
    }
    this.element.classList.remove('no-config');
    this.header.append(h('span', { class: 'file-name', title: config.uri }, config.fileName));
    const parsed = parseConfigText(config.text, config.format);
    const diagnostics = config.diagnostics ?? validateConfigText(config.text, config.format).diagnostics;
    this.update0(toValue(parsed.root), diagnostics);
  }

  private update0(value: unknown, diagnostics: Diagnostic[]): void {
    for (const view of this.fields.values()) {
      if (!view.busy()) view.show(valueAt(value, view.spec.path));
      view.row.classList.remove('invalid');
      clear(view.message);
    }
    for (const el of this.groupMessages.values()) clear(el);
    clear(this.summary);
    const method = valueAt(value, ['training', 'method']) ?? 'full';
    for (const g of this.methodGroups) g.element.hidden = g.method !== method;

    const byField = diagnosticsByField(diagnostics, this.fieldKeys, new Set(this.groupMessages.keys()));
    for (const [key, list] of byField) {
      const view = this.fields.get(key);
      const target = view?.message ?? this.groupMessages.get(key) ?? this.summary;
      if (view && list.some((d) => d.severity === 'error')) view.row.classList.add('invalid');
      for (const d of list) {
        const where = view || key === '' ? '' : `${key}: `;
        const line = target === this.summary ? h('li') : h('div');
        line.className = `diagnostic ${d.severity}`;
        line.append(h('span', { class: 'severity' }, d.severity), ` ${where}`, richText(d.message));
        target.append(line);
      }
    }
    this.summary.hidden = this.summary.childElementCount === 0;
  }

  private renderGroup(group: GroupSpec, level: number): HTMLElement {
    const heading = h(level === 2 ? 'h2' : 'h3', {}, group.title);
    const el = h('section', { class: 'form-group', 'data-group': group.id }, heading);
    if (group.description) el.append(h('p', { class: 'help group-help' }, richText(group.description)));
    const messages = h('div', { class: 'group-messages' });
    this.groupMessages.set(group.id, messages);
    el.append(messages);
    for (const f of group.fields) el.append(this.renderField(f));
    for (const g of group.groups) el.append(this.renderGroup(g, level + 1));
    if (group.method) this.methodGroups.push({ method: group.method, element: el });
    return el;
  }

  private renderField(spec: FieldSpec): HTMLElement {
    const key = pathKey(spec.path);
    const message = h('div', { class: 'field-message', 'aria-live': 'polite' });
    const row = h('div', { class: 'field', 'data-path': key, 'data-kind': spec.kind });
    const edit = (value: JsonValue | undefined) => this.onEdit(spec.path, value);
    let view: Omit<FieldView, 'spec' | 'row' | 'message'>;
    switch (spec.kind) {
      case 'boolean': {
        const c = checkbox({ label: spec.label, title: spec.description, showLabel: false });
        c.onChange(edit);
        view = { show: (v) => (c.value = typeof v === 'boolean' ? v : spec.default === true), busy: () => false };
        row.append(fieldLabel(spec.label, spec.description), c.element);
        break;
      }
      case 'enum': {
        const fallback = spec.default === undefined ? '(not set)' : `(default: ${fieldText(spec.default)})`;
        const c = dropdown({
          label: spec.label,
          choices: [
            { value: '', label: fallback },
            ...spec.options.map((o) => ({ value: o.value, label: o.value, title: o.description })),
          ],
        });
        c.onChange((v) => edit(v === '' ? undefined : v));
        view = { show: (v) => (c.value = typeof v === 'string' ? v : ''), busy: () => false };
        row.append(fieldLabel(spec.label, spec.description), c.element);
        break;
      }
      case 'multiEnum': {
        const boxes = new Map<string, Control<boolean>>();
        const group = h('div', { class: 'choices', role: 'group', 'aria-label': spec.label });
        let current: unknown[] = [];
        for (const o of spec.options) {
          const c = checkbox({ label: o.value, title: o.description });
          // The list keeps the file's order: a ticked metric goes last, an unticked one leaves.
          // Values the schema does not list stay, so the validator can point at them.
          c.onChange((checked) => {
            const rest = current.filter((v) => v !== o.value) as JsonValue[];
            edit(checked ? [...rest, o.value] : rest);
          });
          boxes.set(o.value, c);
          group.append(c.element);
        }
        view = {
          show: (v) => {
            current = Array.isArray(v) ? v : [];
            for (const [name, c] of boxes) c.value = current.includes(name);
          },
          busy: () => false,
        };
        row.append(fieldLabel(spec.label, spec.description), group);
        break;
      }
      default: {
        const c = textField({ label: spec.label, placeholder: spec.placeholder });
        c.onChange((text) => edit(parseFieldText(spec.kind, text)));
        view = {
          show: (v) => (c.value = fieldText(v)),
          busy: () => document.activeElement === c.element,
        };
        row.append(fieldLabel(spec.label, spec.description), c.element);
      }
    }
    row.append(message);
    this.fields.set(key, { ...view, spec, row, message });
    return row;
  }
}
