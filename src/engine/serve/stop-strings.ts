/**
 * OpenAI's `stop`: generation ends when the text produces any of the stop strings, and the text
 * returned ends just before it (the stop string itself is not included). Applied to the decoded
 * text as it streams, in this one place, so that a generator that learns stop strings itself can
 * replace it without touching the routes.
 *
 * A delta is held back while the text ends with the beginning of a stop string (which the next
 * token may complete), so a client never receives part of a stop string; `finish` releases what
 * is held once generation ends without one.
 */
export class StopStrings {
  private held = '';
  private hit = false;
  private readonly stops: readonly string[];

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Whether a stop string was produced (generation should end; finish_reason "stop"). */
  get stopped(): boolean {
    return this.hit;
  }

  /** The part of the new text that can be sent now. */
  push(delta: string): string {
    if (this.hit) return '';
    const text = this.held + delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = text.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.hit = true;
      this.held = '';
      return text.slice(0, cut);
    }
    const hold = this.heldSuffix(text);
    this.held = text.slice(text.length - hold);
    return text.slice(0, text.length - hold);
  }

  /** What was held back, once generation has ended without a stop string. */
  finish(): string {
    const rest = this.hit ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest end of `text` that begins some stop string (a stop cannot start before it). */
  private heldSuffix(text: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
