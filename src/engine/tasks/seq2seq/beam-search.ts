import { logSoftmax, processScores, type ScoreProcessors } from './logits-processors.js';

/**
 * Beam search as transformers' `generate(num_beams > 1)` runs it for an encoder-decoder
 * (generation/utils.py `_beam_search` with `BeamSearchScorer` and `BeamHypotheses`, 4.4x):
 *
 * - each source has `num_beams` rows; at first only the first counts (the others score −1e9);
 * - per step, each row's next-token log-softmax goes through the logits processors, gets the row's
 *   running score added, and the best 2·num_beams (more with several EOS ids) of a source's
 *   num_beams × vocab candidates are walked in order: an EOS candidate among the first num_beams
 *   closes a hypothesis (score = sum_logprobs / generated_len ** length_penalty, the EOS counted),
 *   any other candidate continues as a beam until num_beams beams are chosen;
 * - a source is done when it has num_beams hypotheses and `early_stopping` says no open beam can
 *   beat the worst of them (true: at once; false: transformers' heuristic with the current length;
 *   "never": the bound at max_length when length_penalty > 0); a done source's rows run on padding;
 * - at max_length the open beams are added as hypotheses (without an EOS), and the best
 *   num_return_sequences of each source are returned, best first.
 */

/** A decoder over rows (sources × beams) that, fed the rows' sequences, gives each row's next-token logits. */
export interface StepDecoder {
  /** Logits [rows, vocab] of the next token after each row's sequence (which grows by one token per call). */
  next(sequences: readonly (readonly number[])[]): Promise<{ logits: Float32Array; vocab: number }>;
  /** Row i continues from old row `from[i]` (the KV cache is reordered with the beams). */
  reorder(from: readonly number[]): void;
}

export interface BeamSettings extends ScoreProcessors {
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  numReturnSequences: number;
  decoderStartTokenId: number;
  padTokenId: number;
}

export interface Hypothesis {
  /** Generated ids: no decoder start token, no EOS. */
  ids: number[];
  /** sum_logprobs / length ** length_penalty. */
  score: number;
  /** Whether an EOS closed it (else max_length did). */
  eos: boolean;
}

/** BeamHypotheses: the best `numBeams` finished hypotheses of one source. */
export class BeamHypotheses {
  readonly beams: Hypothesis[] = [];
  worstScore = 1e9;

  constructor(
    private readonly numBeams: number,
    private readonly lengthPenalty: number,
    private readonly earlyStopping: boolean | 'never',
    private readonly maxLength: number,
  ) {}

  /** `generatedLen` is the length the score divides by (transformers' generated_len). */
  add(ids: number[], sumLogprobs: number, generatedLen: number, eos: boolean): void {
    const score = sumLogprobs / generatedLen ** this.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ ids, score, eos });
      if (this.beams.length > this.numBeams) {
        // sorted([(s, idx) ...]): ascending score, then index.
        const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice((order[0] as readonly [number, number])[1], 1);
        this.worstScore = (order[1] as readonly [number, number])[0];
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  /** Whether no open beam can enter any more; `curLen` is transformers' cur_len − decoder_prompt_len. */
  isDone(bestSumLogprobs: number, curLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    const denominator = this.earlyStopping === 'never' && this.lengthPenalty > 0 ? this.maxLength - 1 : curLen;
    return this.worstScore >= bestSumLogprobs / denominator ** this.lengthPenalty;
  }
}

/** The best `k` (score, index) pairs of `scores`, best first; equal scores: the lower index first. */
function topK(scores: Float64Array, k: number): { score: number; index: number }[] {
  const best: { score: number; index: number }[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i] as number;
    if (best.length === k && !(score > (best[k - 1] as { score: number }).score)) continue;
    let at = best.length;
    while (at > 0 && score > (best[at - 1] as { score: number }).score) at--;
    best.splice(at, 0, { score, index: i });
    if (best.length > k) best.pop();
  }
  return best;
}

/** Beam search for `sources` sources; per source its best `numReturnSequences` hypotheses, best first. */
export async function beamSearch(decoder: StepDecoder, sources: number, s: BeamSettings): Promise<Hypothesis[][]> {
  const nb = s.numBeams;
  const rows = sources * nb;
  const eos = new Set(s.eosTokenIds);
  let sequences: number[][] = Array.from({ length: rows }, () => [s.decoderStartTokenId]);
  let beamScores = Float64Array.from({ length: rows }, (_, r) => (r % nb === 0 ? 0 : -1e9));
  const hyps = Array.from(
    { length: sources },
    () => new BeamHypotheses(nb, s.lengthPenalty, s.earlyStopping, s.maxLength),
  );
  const done = new Array<boolean>(sources).fill(false);
  const keep = Math.max(2, 1 + eos.size) * nb;
  while (sequences[0] && (sequences[0] as number[]).length < s.maxLength) {
    const { logits, vocab } = await decoder.next(sequences);
    const curLen = (sequences[0] as number[]).length; // decoder input length before this step's token
    const nextSequences: number[][] = [];
    const nextScores = new Float64Array(rows);
    const from: number[] = [];
    for (let b = 0; b < sources; b++) {
      if (done[b]) {
        // A done source's rows are padding from here on (transformers: score 0, pad token).
        for (let k = 0; k < nb; k++) {
          const r = b * nb + k;
          nextSequences.push([...(sequences[r] as number[]), s.padTokenId]);
          from.push(r);
        }
        continue;
      }
      const candidates = new Float64Array(nb * vocab);
      for (let k = 0; k < nb; k++) {
        const r = b * nb + k;
        const scores = logSoftmax(logits, r * vocab, vocab);
        processScores(scores, sequences[r] as number[], s);
        const base = beamScores[r] as number;
        for (let v = 0; v < vocab; v++) candidates[k * vocab + v] = (scores[v] as number) + base;
      }
      const top = topK(candidates, keep);
      let chosen = 0;
      for (const [rank, c] of top.entries()) {
        const r = b * nb + Math.floor(c.index / vocab);
        const token = c.index % vocab;
        if (eos.has(token)) {
          // Only an EOS among the first num_beams candidates closes a hypothesis.
          if (rank >= nb) continue;
          hyps[b]?.add((sequences[r] as number[]).slice(1), c.score, curLen, true);
        } else {
          nextSequences.push([...(sequences[r] as number[]), token]);
          nextScores[b * nb + chosen] = c.score;
          from.push(r);
          chosen++;
        }
        if (chosen === nb) break;
      }
      if (chosen < nb) throw new Error(`beam search: fewer than ${nb} continuations for source ${b} (scores are -inf)`);
      done[b] = hyps[b]?.isDone((top[0] as { score: number }).score, curLen) ?? true;
    }
    sequences = nextSequences;
    beamScores = nextScores;
    decoder.reorder(from);
    if (done.every(Boolean)) break;
  }
  return hyps.map((h, b) => {
    if (!done[b])
      for (let k = 0; k < nb; k++) {
        const seq = sequences[b * nb + k] as number[];
        h.add(seq.slice(1), beamScores[b * nb + k] as number, seq.length - 1, false);
      }
    // sorted(..., key=score) then pop(): the highest score first, the later-added on ties.
    const sorted = h.beams.map((beam, i) => ({ beam, i })).sort((a, b) => a.beam.score - b.beam.score || a.i - b.i);
    return sorted
      .reverse()
      .slice(0, s.numReturnSequences)
      .map((x) => x.beam);
  });
}
