import type { TaskName } from './config-tasks.js';

/**
 * "Try it" (the run panel's Playground tab and Predict on Selection): what a user asks a trained
 * model, the request `finetune serve` takes for it, and the server's answer turned into what the
 * views show. The server answers in transformers' pipeline shapes (src/engine/serve/, README
 * "Serving"), whose character offsets count code points as Python's do; the results here carry
 * UTF-16 offsets, the ones JavaScript strings (and the highlighting) use. No Node or DOM types:
 * the host, the webview and the tests share it.
 */

/** The encoder-decoder tasks, whose /predict generates a text from the input text. */
export type Seq2SeqTask = 'translation' | 'summarization';

/**
 * What is asked, per task: a text, a question on a context, a prompt to continue, or a text to
 * translate or summarize (`maxTokens` absent: the model's generation_config.json length).
 */
export type PlaygroundInput =
  | { task: 'text-classification'; text: string }
  | { task: 'token-classification'; text: string }
  | { task: 'question-answering'; question: string; context: string }
  | { task: 'causal-lm'; prompt: string; maxTokens: number; temperature: number }
  | { task: Seq2SeqTask; text: string; maxTokens?: number };

/** The most `max_new_tokens` one /predict may ask of an encoder-decoder (`finetune serve` refuses more). */
export const MAX_NEW_TOKENS_LIMIT = 4096;

export interface LabelScore {
  label: string;
  score: number;
}

/** An entity of token classification (aggregation "simple"); start/end are UTF-16 offsets, end exclusive. */
export interface EntitySpan {
  group: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

/** The answer span of extractive QA; start/end are UTF-16 offsets in the context, end exclusive. */
export interface AnswerSpan {
  answer: string;
  score: number;
  start: number;
  end: number;
}

/** Why a generation ended: OpenAI's finish_reason, or the user's Stop. */
export type FinishReason = 'stop' | 'length' | 'stopped';

export type PlaygroundResult =
  | { task: 'text-classification'; labels: LabelScore[] }
  | { task: 'token-classification'; text: string; entities: EntitySpan[] }
  | { task: 'question-answering'; question: string; context: string; answer: AnswerSpan }
  | { task: 'causal-lm'; prompt: string; text: string; finishReason: FinishReason }
  /** The generated translation or summary of `source`, and how long the request took (ms). */
  | { task: Seq2SeqTask; source: string; text: string; ms: number };

/** The tasks the Playground serves: every config task but masked-lm. */
export function isPlaygroundTask(task: unknown): task is Exclude<TaskName, 'masked-lm'> {
  return (
    task === 'text-classification' ||
    task === 'token-classification' ||
    task === 'question-answering' ||
    task === 'causal-lm' ||
    isSeq2SeqTask(task)
  );
}

export function isSeq2SeqTask(task: unknown): task is Seq2SeqTask {
  return task === 'translation' || task === 'summarization';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOffset = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** What is wrong with an input (as a webview posts it), or undefined when it is well-formed. */
export function checkPlaygroundInput(v: unknown): string | undefined {
  if (!isObj(v)) return 'the input must be an object';
  switch (v.task) {
    case 'text-classification':
    case 'token-classification':
      return isStr(v.text) && v.text.trim() !== '' ? undefined : 'the text must not be empty';
    case 'question-answering':
      if (!isStr(v.question) || v.question.trim() === '') return 'the question must not be empty';
      return isStr(v.context) && v.context.trim() !== '' ? undefined : 'the context must not be empty';
    case 'causal-lm':
      if (!isStr(v.prompt) || v.prompt === '') return 'the prompt must not be empty';
      if (!Number.isInteger(v.maxTokens) || (v.maxTokens as number) < 1)
        return 'max tokens must be a whole number of at least 1';
      // The server's bounds (OpenAI's): a temperature in [0, 2].
      return isNum(v.temperature) && v.temperature >= 0 && v.temperature <= 2
        ? undefined
        : 'the temperature must be a number from 0 to 2';
    case 'translation':
    case 'summarization':
      if (!isStr(v.text) || v.text.trim() === '') return 'the text must not be empty';
      return v.maxTokens === undefined ||
        (Number.isInteger(v.maxTokens) &&
          (v.maxTokens as number) >= 1 &&
          (v.maxTokens as number) <= MAX_NEW_TOKENS_LIMIT)
        ? undefined
        : `max new tokens must be a whole number from 1 to ${MAX_NEW_TOKENS_LIMIT}`;
    default:
      return `no playground for task ${JSON.stringify(v.task)}`;
  }
}

/**
 * The `finetune serve` request for an input: POST /predict in the Inference API's shape for the
 * encoder tasks (every label's score for a classifier: `top_k: null`), POST /v1/completions for
 * a causal LM, streamed as server-sent events; an encoder-decoder's text with its max_new_tokens.
 */
export function serveRequest(input: PlaygroundInput): { path: string; body: Obj } {
  switch (input.task) {
    case 'text-classification':
      return { path: '/predict', body: { inputs: input.text, parameters: { top_k: null } } };
    case 'token-classification':
      return { path: '/predict', body: { inputs: input.text } };
    case 'question-answering':
      return { path: '/predict', body: { inputs: { question: input.question, context: input.context } } };
    case 'causal-lm':
      return {
        path: '/v1/completions',
        body: { prompt: input.prompt, max_tokens: input.maxTokens, temperature: input.temperature, stream: true },
      };
    case 'translation':
    case 'summarization': {
      const parameters = input.maxTokens === undefined ? {} : { parameters: { max_new_tokens: input.maxTokens } };
      return { path: '/predict', body: { inputs: input.text, ...parameters } };
    }
  }
}

/** The UTF-16 offset of code point `index` of `text` (clamped to its end). */
export function utf16Offset(text: string, index: number): number {
  let offset = 0;
  let seen = 0;
  for (const ch of text) {
    if (seen === index) return offset;
    offset += ch.length;
    seen++;
  }
  return offset;
}

const bad = (what: string, v: unknown) =>
  new Error(`finetune serve answered ${what} with an unexpected shape: ${JSON.stringify(v)?.slice(0, 200)}`);

/**
 * A /predict answer as a result of an input, which took `ms` to answer; throws naming what is not
 * of the pipeline's shape.
 */
export function predictResult(input: PlaygroundInput, response: unknown, ms: number): PlaygroundResult {
  switch (input.task) {
    case 'text-classification': {
      if (!Array.isArray(response) || !response.every((r) => isObj(r) && isStr(r.label) && isNum(r.score)))
        throw bad('a text classification', response);
      return { task: input.task, labels: response.map((r) => ({ label: r.label, score: r.score })) };
    }
    case 'token-classification': {
      const ok = (r: unknown): r is Obj =>
        isObj(r) && isStr(r.entity_group) && isNum(r.score) && isStr(r.word) && isOffset(r.start) && isOffset(r.end);
      if (!Array.isArray(response) || !response.every(ok)) throw bad('a token classification', response);
      const { text } = input;
      const entities = response.map((r) => ({
        group: r.entity_group as string,
        score: r.score as number,
        word: r.word as string,
        start: utf16Offset(text, r.start as number),
        end: utf16Offset(text, r.end as number),
      }));
      return { task: input.task, text, entities };
    }
    case 'question-answering': {
      const r = response;
      if (!isObj(r) || !isStr(r.answer) || !isNum(r.score) || !isOffset(r.start) || !isOffset(r.end))
        throw bad('a question', response);
      const { question, context } = input;
      const answer = {
        answer: r.answer,
        score: r.score,
        start: utf16Offset(context, r.start),
        end: utf16Offset(context, r.end),
      };
      return { task: input.task, question, context, answer };
    }
    case 'causal-lm':
      throw new Error('a causal LM answers on /v1/completions, not /predict');
    case 'translation':
    case 'summarization': {
      // TranslationPipeline / SummarizationPipeline: one string answers a list of one record.
      const key = input.task === 'translation' ? 'translation_text' : 'summary_text';
      const r = Array.isArray(response) && response.length === 1 ? response[0] : undefined;
      if (!isObj(r) || !isStr(r[key])) throw bad(`a ${input.task}`, response);
      return { task: input.task, source: input.text, text: r[key], ms };
    }
  }
}

/** One `text_completion` chunk of a streamed completion: its text and, on the last, why it ended. */
export function completionChunk(data: unknown): { text: string; finish?: FinishReason } {
  const choice = isObj(data) && Array.isArray(data.choices) ? data.choices[0] : undefined;
  // The usage chunk has no choices.
  if (choice === undefined && isObj(data) && Array.isArray(data.choices)) return { text: '' };
  if (!isObj(choice) || !isStr(choice.text)) throw bad('a completion chunk', data);
  const f = choice.finish_reason;
  if (f === 'stop' || f === 'length') return { text: choice.text, finish: f };
  if (f !== null && f !== undefined) throw bad('a completion chunk', data);
  return { text: choice.text };
}

const pct = (score: number) => `${(score * 100).toFixed(1)}%`;

/** One line for an inline hint: the best label, the entities, the answer or the continuation. */
export function resultSummary(result: PlaygroundResult): string {
  switch (result.task) {
    case 'text-classification': {
      const best = result.labels[0];
      return best ? `${best.label} ${pct(best.score)}` : 'no label';
    }
    case 'token-classification':
      return result.entities.length === 0
        ? 'no entities'
        : result.entities.map((e) => `${e.word} (${e.group})`).join(', ');
    case 'question-answering':
      return result.answer.answer === '' ? 'no answer' : `"${result.answer.answer}" ${pct(result.answer.score)}`;
    case 'causal-lm':
      return generatedLine('…', result.text);
    case 'translation':
    case 'summarization':
      return generatedLine('→ ', result.text);
  }
}

/** A generated text on one line after `lead`, cut at 80 characters. */
function generatedLine(lead: string, text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line === '' ? '(nothing generated)' : `${lead}${line.length > 80 ? `${line.slice(0, 80)}…` : line}`;
}

/** How long a request took: `850 ms`, `2.4 s`. */
export function formatMs(ms: number): string {
  // 999.6 ms rounds to "1.0 s", not "1000 ms".
  return ms < 999.5 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Markdown text with Markdown's punctuation escaped, so a model's text shows as it is. */
function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

/** The whole result as Markdown, for the hover of Predict on Selection. */
export function resultMarkdown(result: PlaygroundResult, model: string): string {
  const head = `**Fine-tune prediction** · ${md(model)}\n\n`;
  switch (result.task) {
    case 'text-classification':
      return `${head}| label | score |\n|---|---:|\n${result.labels
        .map((l) => `| ${md(l.label)} | ${pct(l.score)} |`)
        .join('\n')}`;
    case 'token-classification':
      return result.entities.length === 0
        ? `${head}No entities found.`
        : `${head}| entity | type | score |\n|---|---|---:|\n${result.entities
            .map((e) => `| ${md(result.text.slice(e.start, e.end))} | ${md(e.group)} | ${pct(e.score)} |`)
            .join('\n')}`;
    case 'question-answering':
      return result.answer.answer === ''
        ? `${head}Q: ${md(result.question)}\n\nNo answer in the selection.`
        : `${head}Q: ${md(result.question)}\n\nA: **${md(result.answer.answer)}** (${pct(result.answer.score)}, characters ${result.answer.start}–${result.answer.end})`;
    case 'causal-lm':
      return `${head}${md(result.prompt)}**${md(result.text)}**\n\n_${result.finishReason === 'length' ? 'cut at the token limit' : 'ended'}_`;
    case 'translation':
    case 'summarization':
      return `${head}${result.task === 'translation' ? 'Translation' : 'Summary'}: **${md(result.text)}**\n\n_${formatMs(result.ms)}_`;
  }
}

/** Whether a host message's result is one the views can render (offsets inside their text). */
export function isPlaygroundResult(v: unknown): v is PlaygroundResult {
  if (!isObj(v)) return false;
  const span = (s: unknown, text: string) =>
    isObj(s) && isNum(s.score) && isOffset(s.start) && isOffset(s.end) && s.start <= s.end && s.end <= text.length;
  switch (v.task) {
    case 'text-classification':
      return Array.isArray(v.labels) && v.labels.every((l) => isObj(l) && isStr(l.label) && isNum(l.score));
    case 'token-classification':
      return (
        isStr(v.text) &&
        Array.isArray(v.entities) &&
        v.entities.every((e) => span(e, v.text as string) && isStr(e.group) && isStr(e.word))
      );
    case 'question-answering':
      return isStr(v.question) && isStr(v.context) && span(v.answer, v.context) && isStr((v.answer as Obj).answer);
    case 'causal-lm':
      return (
        isStr(v.prompt) &&
        isStr(v.text) &&
        (v.finishReason === 'stop' || v.finishReason === 'length' || v.finishReason === 'stopped')
      );
    case 'translation':
    case 'summarization':
      return isStr(v.source) && isStr(v.text) && isNum(v.ms) && v.ms >= 0;
    default:
      return false;
  }
}
