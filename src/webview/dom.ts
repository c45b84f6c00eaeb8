/**
 * Small DOM helpers. Everything is built with createElement and textContent, never innerHTML:
 * run names, log lines and config values are data from files, and must not become markup.
 */
type Attrs = Record<string, string | number | boolean | undefined>;

type Child = Node | string | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K];
/** Custom elements (the toolkit's `vscode-*` tags). */
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  for (const c of children) if (c !== undefined) el.append(c);
  return el;
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) el.removeAttribute(k);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** Schema descriptions mark names with backticks: those become <code>. */
export function richText(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  text.split('`').forEach((part, i) => {
    if (part === '') return;
    frag.append(i % 2 === 1 ? h('code', {}, part) : part);
  });
  return frag;
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

/** Reads a `--vscode-*` theme colour, with a fallback outside VS Code (the test harness). */
export function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}
