/**
 * When the trainer writes a checkpoint between evaluations (`training.save_steps`,
 * `training.save_minutes`): every `steps` optimizer steps, and once `minutes` have passed since the
 * last checkpoint of any kind, so a killed run loses at most that much work. Checkpoints never
 * change the training itself, so the cadence (even the time-based one) leaves losses and weights
 * exactly as they would be without it.
 */
export interface SaveCadence {
  steps?: number;
  /** 0 or undefined: no time-based checkpoints. */
  minutes?: number;
}

export class SavePolicy {
  private lastStep = -1;
  private lastTime: number;

  constructor(
    private readonly cadence: SaveCadence,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastTime = now();
  }

  /** Whether a checkpoint is due after optimizer step `step` (false when one was just written there). */
  due(step: number): boolean {
    if (step === this.lastStep) return false;
    const { steps, minutes } = this.cadence;
    if (steps !== undefined && step % steps === 0) return true;
    return minutes !== undefined && minutes > 0 && this.now() - this.lastTime >= minutes * 60_000;
  }

  /** Records a checkpoint written at `step` (whatever the reason): the time cadence restarts. */
  saved(step: number): void {
    this.lastStep = step;
    this.lastTime = this.now();
  }
}
