import type { NonFinitePolicy } from '../../shared/config.js';
import type { RunDirectory } from './run-dir.js';
import type { StepResult } from './step-runner.js';

/**
 * training.on_nonfinite: what the trainer does with a step whose loss or gradient norm is NaN or
 * infinite. `stop` fails the run at that step; `skip_step` lets the runner leave the weights and
 * optimizer state as they were (see StepRunner.step), logs the step, and fails the run after
 * {@link MAX_SKIPPED_IN_A_ROW} such steps in a row, since by then training is not recovering. Each
 * failure names the step, the last checkpoint on disk (written before the first bad step, so its
 * weights are finite) and the usual causes.
 */
export const MAX_SKIPPED_IN_A_ROW = 10;

/** A run stopped for non-finite values: the trainer's caller ends the run as `failed` with this message. */
export class NonFiniteError extends Error {
  override readonly name = 'NonFiniteError';
}

const fmt = (x: number | undefined): string => (x === undefined ? 'n/a' : Number.isNaN(x) ? 'NaN' : String(x));

export class NonFiniteWatch {
  private inARow = 0;
  private firstOfRow = 0;

  constructor(
    private readonly policy: NonFinitePolicy,
    private readonly run: RunDirectory,
    /** The configured peak learning rate, for the hint. */
    private readonly learningRate: number,
  ) {}

  /**
   * A micro-batch that only accumulated gradients (step `step` in progress). Under `stop` a
   * non-finite loss fails the run now; under `skip_step` the optimizer step it belongs to is
   * judged by its gradient norm, which the non-finite gradients make non-finite too.
   */
  microBatch(loss: number, step: number): void {
    if (this.policy === 'stop' && !Number.isFinite(loss))
      throw this.error(`training step ${step} has a non-finite loss (${fmt(loss)}) in a micro-batch`, 'stop');
  }

  /** After optimizer step `step`: true when it was skipped (not applied); throws when the run must stop. */
  afterStep(result: StepResult, step: number): boolean {
    const values = `loss ${fmt(result.loss)}, gradient norm ${fmt(result.gradNorm)}`;
    const finite = Number.isFinite(result.loss) && Number.isFinite(result.gradNorm ?? 0);
    if (finite && !result.skipped) {
      this.inARow = 0;
      return false;
    }
    if (this.policy === 'stop' || !result.skipped)
      throw this.error(`training step ${step} has a non-finite ${values}`, 'stop');
    if (this.inARow === 0) this.firstOfRow = step;
    this.inARow++;
    this.run.log(
      'warn',
      `step ${step}: ${values}: update skipped (training.on_nonfinite: skip_step), ${this.inARow} in a row; the run stops after ${MAX_SKIPPED_IN_A_ROW}`,
    );
    if (this.inARow >= MAX_SKIPPED_IN_A_ROW) {
      throw this.error(
        `${this.inARow} training steps in a row (steps ${this.firstOfRow} to ${step}) had a non-finite loss or gradient norm and were skipped; the last: ${values}`,
        'skip_step',
      );
    }
    return true;
  }

  private error(what: string, policy: NonFinitePolicy): NonFiniteError {
    const last = this.run.checkpointSteps().at(-1);
    const checkpoint =
      last === undefined
        ? 'No checkpoint was saved before it: the run has to start over.'
        : `The last good checkpoint is checkpoints/step-${last}: \`finetune resume\` continues from it.`;
    const hint =
      `Usual causes: a learning rate too high (training.learning_rate is ${this.learningRate}: try a tenth of it), ` +
      'data or weights in fp16 that overflow, or bad rows (empty texts, extreme or out-of-range labels).' +
      (policy === 'stop' ? ' training.on_nonfinite: skip_step skips such steps instead of stopping.' : '');
    return new NonFiniteError(`${what}. ${checkpoint} ${hint}`);
  }
}
