import {
  binRange,
  type CleanCounts,
  type DataReport,
  type DedupReport,
  type LabelCount,
  type Source,
  type SplitStats,
} from '../shared/data-report.js';
import { h } from './dom.js';

/**
 * A data report (src/shared/data-report.ts) as DOM: what was read, label bars per split, the
 * token-length histogram with the max_length cut, cleaning counts, and the tables of duplicates,
 * train/validation leakage and bad rows, whose file:line links call `open`. Bars are positioned
 * with element.style (CSSOM, which the panel's CSP allows); colours are theme variables in panel.css.
 */
export type OpenRow = (file: string, line: number) => void;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const SPLITS = ['train', 'validation'] as const;

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** `train.jsonl:12` (`:col` for a field), the full path in its tooltip; opens the file at the line. */
function rowLink(s: Source, open: OpenRow): HTMLElement {
  const text = `${fileName(s.file)}:${s.line}${s.column === undefined ? '' : `:${s.column}`}`;
  const a = h(
    'a',
    { href: '#', class: 'row-link', title: `${s.file}:${s.line}`, 'data-file': s.file, 'data-line': s.line },
    text,
  );
  a.addEventListener('click', (e) => {
    e.preventDefault();
    open(s.file, s.line);
  });
  return a;
}

function table(className: string, head: string[], rows: (Node | string)[][]): HTMLElement {
  const body = h('tbody');
  for (const cells of rows) body.append(h('tr', {}, ...cells.map((c) => h('td', {}, c))));
  return h(
    'table',
    { class: `data-table ${className}` },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
}

/** "12 listed of 40" when a list was cut, for the caption under a table. */
function listed(shown: number, total: number): string {
  return shown < total ? `The first ${shown} of ${total} are listed.` : '';
}

function section(title: string, className: string, ...children: (Node | string | undefined)[]): HTMLElement {
  return h('section', { class: `data-section ${className}` }, h('h3', {}, title), ...children);
}

function summary(r: DataReport): HTMLElement {
  const lines: string[] = [];
  for (const split of SPLITS) {
    const f = r.files[split];
    if (f)
      lines.push(
        `${split}: ${f.path} (${f.format}), ${f.examples} examples read${f.skipped ? `, ${f.skipped} bad rows skipped` : ''}`,
      );
  }
  if (r.split)
    lines.push(
      `validation: ${pct(r.split.fraction)} of train held out (seed ${r.split.seed}${r.split.stratified ? ', stratified' : ''})`,
    );
  lines.push(`examples after cleaning and de-duplication: ${r.sizes.train} train, ${r.sizes.validation} validation`);
  return section(
    `Data (${r.task}${r.layout ? `, ${r.layout} rows` : ''})`,
    'data-summary',
    h('ul', {}, ...lines.map((l) => h('li', {}, l))),
    r.warnings.length > 0
      ? h('ul', { class: 'data-warnings' }, ...r.warnings.map((w) => h('li', { class: 'warning' }, w)))
      : undefined,
  );
}

function labelBar(c: LabelCount | undefined): HTMLElement {
  if (!c) return h('span', { class: 'muted' }, '—');
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = pct(c.fraction);
  return h(
    'div',
    { class: 'label-bar', title: `${c.count} (${pct(c.fraction)})` },
    h('div', { class: 'bar-track' }, fill),
    h('span', { class: 'bar-text' }, `${c.count} (${pct(c.fraction)})`),
  );
}

function labels(r: DataReport): HTMLElement | undefined {
  const train = r.stats?.train.labels;
  if (!train) return undefined;
  const validation = r.stats?.validation?.labels;
  const head = ['Label', 'Train', ...(validation ? ['Validation'] : [])];
  const rows = train.map((l, i) => [String(l.label), labelBar(l), ...(validation ? [labelBar(validation[i])] : [])]);
  const order = r.labels?.order === 'model-config' ? "in the model config's label2id order" : 'sorted';
  return section(
    'Labels',
    'data-labels',
    h('p', { class: 'muted' }, `${train.length} labels, ${order}.`),
    table('labels-table', head, rows),
  );
}

/** The histogram of one split, on a linear length axis from 0 to past both the longest example and max_length. */
function histogram(name: string, s: SplitStats, maxLength: number, grouped: boolean): HTMLElement {
  const caption = h(
    'p',
    { class: 'histogram-caption' },
    `${name}: ${s.examples} examples; tokens p50 ${s.tokens.p50}, p90 ${s.tokens.p90}, p99 ${s.tokens.p99}, max ${s.tokens.max}. `,
    h(
      'strong',
      { class: 'truncated-share' },
      grouped
        ? `${s.truncated.count} of ${s.examples} (${pct(s.truncated.fraction)}) longer than one block of max_length ${maxLength}: texts are joined into blocks, none truncated.`
        : s.truncated.count === 0
          ? `0 of ${s.examples} (0.0%) longer than max_length ${maxLength}: none truncated.`
          : `${s.truncated.count} of ${s.examples} (${pct(s.truncated.fraction)}) longer than max_length ${maxLength}: truncated.`,
    ),
  );
  const hist = s.histogram;
  if (!hist)
    return h(
      'div',
      { class: 'histogram-block' },
      caption,
      h('p', { class: 'muted' }, 'No histogram: the report was written by an older engine.'),
    );
  // The axis ends with the last bin; a max_length past it (every example fits) is marked at the end.
  const end = hist.counts.length * hist.width;
  const last = hist.counts.length - 1;
  const tallest = Math.max(1, ...hist.counts);
  const plot = h('div', { class: 'histogram', role: 'img', 'aria-label': `${name} token lengths` });
  hist.counts.forEach((count, i) => {
    const [from, to] = binRange(i, hist.width);
    const range = i === last && hist.openEnded ? `${from} or more` : from === to ? `${from}` : `${from}–${to}`;
    const bar = h('div', {
      class: from > maxLength && !grouped ? 'bin truncated' : 'bin',
      title: `${range} tokens: ${count}`,
      'data-count': count,
    });
    bar.style.left = pct((i * hist.width) / end);
    bar.style.width = pct(hist.width / end);
    bar.style.height = pct(count / tallest);
    plot.append(bar);
  });
  const beyond = maxLength > end;
  const cutText = `max_length ${maxLength}${beyond ? ' →' : ''}`;
  const cut = h(
    'div',
    { class: beyond ? 'cut beyond' : 'cut', title: `max_length ${maxLength}` },
    h('span', { class: 'cut-label' }, cutText),
  );
  cut.style.left = pct(Math.min(maxLength, end) / end);
  plot.append(cut);
  const axis = h(
    'div',
    { class: 'histogram-axis' },
    h('span', {}, '0'),
    h('span', {}, `${end}${hist.openEnded ? '+' : ''} tokens`),
  );
  return h('div', { class: 'histogram-block', 'data-split': name }, caption, plot, axis);
}

function lengths(r: DataReport): HTMLElement | undefined {
  const stats = r.stats;
  if (!stats) return undefined;
  return section(
    'Token lengths',
    'data-lengths',
    h('p', { class: 'muted' }, `Counted with ${stats.counter}.`),
    histogram('train', stats.train, stats.maxLength, stats.grouped === true),
    stats.validation ? histogram('validation', stats.validation, stats.maxLength, stats.grouped === true) : undefined,
  );
}

const CLEAN_STEPS: [keyof CleanCounts, string][] = [
  ['examples', 'examples'],
  ['html', 'HTML stripped'],
  ['normalized', 'normalised'],
  ['control', 'control characters removed'],
  ['whitespace', 'whitespace collapsed'],
  ['lowercased', 'lowercased'],
  ['emptied', 'dropped: no text left'],
  ['answersLost', 'dropped: answer lost'],
];

function cleaning(r: DataReport): HTMLElement {
  const splits = SPLITS.filter((s) => r.clean[s] !== undefined);
  const rows = CLEAN_STEPS.map(([key, label]) => [label, ...splits.map((s) => String(r.clean[s]?.[key] ?? 0))]);
  return section('Cleaning', 'data-cleaning', table('cleaning-table', ['', ...splits], rows));
}

function duplicateRows(d: DedupReport, open: OpenRow): (Node | string)[][] {
  const conflict = new Map(d.conflicts.map((c) => [`${c.removed.file}:${c.removed.line}`, c.labels]));
  const rows: (Node | string)[][] = d.exactExamples.map((p) => {
    const labels = conflict.get(`${p.removed.file}:${p.removed.line}`);
    return [
      labels ? 'exact, other label' : 'exact',
      rowLink(p.removed, open),
      rowLink(p.kept, open),
      labels ? `${labels[1]} instead of ${labels[0]}` : '',
    ];
  });
  for (const p of d.nearExamples) rows.push(['near', rowLink(p.removed, open), rowLink(p.kept, open), '']);
  return rows;
}

function duplicates(r: DataReport, open: OpenRow): HTMLElement {
  const parts: HTMLElement[] = [];
  for (const split of SPLITS) {
    const d = r.duplicates[split];
    if (!d) continue;
    parts.push(
      h(
        'p',
        {},
        `${split}: ${d.exact} exact duplicates removed (${d.conflicting} with a different label), ${d.near} near duplicates removed. `,
        listed(d.exactExamples.length, d.exact),
      ),
    );
    if (d.exact + d.near > 0)
      parts.push(table('duplicates-table', ['Kind', 'Removed', 'Repeats', 'Labels'], duplicateRows(d, open)));
  }
  return section('Duplicates', 'data-duplicates', ...parts);
}

function leakage(r: DataReport, open: OpenRow): HTMLElement {
  const l = r.leakage;
  const rows = l.examples.map((e) => [rowLink(e.validation, open), rowLink(e.train, open), e.text]);
  return section(
    'Train/validation leakage',
    'data-leakage',
    h('p', {}, `${l.count} validation examples also in the training data. `, listed(l.examples.length, l.count)),
    rows.length > 0 ? table('leakage-table', ['Validation', 'Train', 'Text'], rows) : undefined,
  );
}

function badRows(r: DataReport, open: OpenRow): HTMLElement {
  const s = r.skipped;
  const rows = s.rows.map((b) => [rowLink(b, open), b.kind, b.message]);
  return section(
    'Bad rows',
    'data-bad-rows',
    h(
      'p',
      {},
      s.count === 0 ? 'No bad rows.' : `${s.count} rows skipped (data.on_bad_rows: skip). `,
      listed(s.rows.length, s.count),
    ),
    rows.length > 0 ? table('bad-rows-table', ['Row', 'Kind', 'Reason'], rows) : undefined,
  );
}

export function renderDataReport(r: DataReport, open: OpenRow): HTMLElement {
  const notes = r.encoding ?? [];
  return h(
    'div',
    { class: 'data-report' },
    summary(r),
    labels(r),
    lengths(r),
    cleaning(r),
    duplicates(r, open),
    leakage(r, open),
    badRows(r, open),
    notes.length > 0
      ? section('Encoding', 'data-encoding', h('ul', {}, ...notes.map((n) => h('li', {}, n))))
      : undefined,
  );
}
