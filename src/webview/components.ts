import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { h, richText } from './dom.js';

/**
 * The one module that knows which web components the panel is built from. Today that is
 * `@vscode/webview-ui-toolkit` (named in the design, but archived upstream); moving to
 * `@vscode-elements/elements` means changing the tags and property names here and nothing else.
 *
 * Every control is returned behind a small interface of ours. Setting a value from code never
 * fires the change callback (the toolkit's elements emit `change` for programmatic sets too), so
 * the form can follow the file without echoing each update back as an edit.
 */
let registered = false;

export function registerComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeTextField(),
  );
}

export interface Control<T> {
  readonly element: HTMLElement;
  value: T;
  disabled: boolean;
  onChange(fn: (value: T) => void): void;
}

type ValueElement = HTMLElement & { value: string; disabled: boolean };
type CheckElement = HTMLElement & { checked: boolean; disabled: boolean };

/** Wires a change event to a callback, silenced while code sets the value. */
function control<T>(element: HTMLElement, event: string, get: () => T, set: (v: T) => void): Control<T> {
  let silent = false;
  const listeners: ((v: T) => void)[] = [];
  element.addEventListener(event, () => {
    if (!silent) for (const fn of listeners) fn(get());
  });
  return {
    element,
    get value() {
      return get();
    },
    set value(v: T) {
      silent = true;
      try {
        set(v);
      } finally {
        silent = false;
      }
    },
    get disabled() {
      return (element as ValueElement).disabled;
    },
    set disabled(d: boolean) {
      (element as ValueElement).disabled = d;
    },
    onChange: (fn) => listeners.push(fn),
  };
}

/** `live`: report every keystroke (a search box) instead of the committed value (a form field). */
export function textField(opts: {
  label: string;
  placeholder?: string;
  value?: string;
  live?: boolean;
}): Control<string> {
  const el = h('vscode-text-field', {
    'aria-label': opts.label,
    placeholder: opts.placeholder,
  }) as ValueElement;
  el.value = opts.value ?? '';
  // `change` fires when the user commits (Enter or leaving the field), `input` per keystroke.
  return control(
    el,
    opts.live ? 'input' : 'change',
    () => el.value,
    (v) => {
      el.value = v;
    },
  );
}

export interface Choice {
  value: string;
  label: string;
  title?: string;
}

export function dropdown(opts: { label: string; choices: Choice[]; value?: string }): Control<string> {
  const el = h('vscode-dropdown', { 'aria-label': opts.label }) as ValueElement;
  for (const c of opts.choices) el.append(h('vscode-option', { value: c.value, title: c.title }, c.label));
  const c = control(
    el,
    'change',
    () => el.value,
    (v) => {
      el.value = v;
    },
  );
  if (opts.value !== undefined) c.value = opts.value;
  return c;
}

/** `showLabel: false` for a box next to a label of its own (a form row): the label is then only read out. */
export function checkbox(opts: {
  label: string;
  checked?: boolean;
  title?: string;
  showLabel?: boolean;
}): Control<boolean> {
  const shown = opts.showLabel ?? true;
  const el = h(
    'vscode-checkbox',
    { title: opts.title, 'aria-label': shown ? undefined : opts.label },
    shown ? opts.label : undefined,
  ) as CheckElement;
  el.checked = opts.checked ?? false;
  return control(
    el,
    'change',
    () => el.checked,
    (v) => {
      el.checked = v;
    },
  );
}

export function button(opts: {
  label: string;
  appearance?: 'primary' | 'secondary';
  title?: string;
  onClick: () => void;
}): HTMLElement & { disabled: boolean } {
  const el = h(
    'vscode-button',
    { appearance: opts.appearance ?? 'secondary', title: opts.title },
    opts.label,
  ) as HTMLElement & {
    disabled: boolean;
  };
  el.addEventListener('click', () => {
    if (!el.disabled) opts.onClick();
  });
  return el;
}

/** The toolkit has no slider: a native range input, styled in panel.css. */
export function slider(opts: {
  label: string;
  min: number;
  max: number;
  step: number;
  value: number;
}): Control<number> {
  const el = h('input', {
    type: 'range',
    class: 'slider',
    min: opts.min,
    max: opts.max,
    step: opts.step,
    'aria-label': opts.label,
  });
  el.value = String(opts.value);
  return control(
    el,
    'input',
    () => Number(el.value),
    (v) => {
      el.value = String(v);
    },
  );
}

export function badge(text: string): HTMLElement {
  return h('vscode-badge', {}, text);
}

export function divider(): HTMLElement {
  return h('vscode-divider', { role: 'separator' });
}

export interface Tab {
  id: string;
  label: string;
  content: HTMLElement;
}

/** Tabs; `onSelect` fires with the tab id when the user switches. */
export function tabs(items: Tab[], active: string, onSelect: (id: string) => void): HTMLElement {
  const el = h('vscode-panels', { activeid: `tab-${active}`, 'aria-label': 'Run panel' });
  for (const t of items) el.append(h('vscode-panel-tab', { id: `tab-${t.id}` }, t.label));
  for (const t of items) el.append(h('vscode-panel-view', { id: `view-${t.id}` }, t.content));
  el.addEventListener('change', (e) => {
    // Dropdowns and checkboxes inside the views emit `change` too; only the tab list's own counts.
    if (e.target !== el) return;
    const id = (el as unknown as { activeid?: string }).activeid?.replace(/^tab-/, '');
    if (id) onSelect(id);
  });
  return el;
}

/** A label with its help text, for a form row. */
export function fieldLabel(label: string, help: string): HTMLElement {
  return h(
    'div',
    { class: 'field-label' },
    h('span', { class: 'field-name' }, label),
    h('div', { class: 'help' }, richText(help)),
  );
}
