// Added tokens ([CLS], <mask>, <|endoftext|>, ...) written literally in the input: found before
// the model runs, as the library's DictionarySplitter does (leftmost, then longest match).
import type { LibAddedToken } from './library.js';

export interface Section {
  from: number;
  to: number;
  /** Set when the section is an added token's text. */
  added?: LibAddedToken;
}

export class AddedTokenSplitter {
  /** First UTF-16 unit -> tokens starting with it, longest first. */
  private readonly byFirst = new Map<number, { content: string; token: LibAddedToken }[]>();
  /** 1 at each UTF-16 unit some token starts with: most units of a text skip the map lookup. */
  private readonly firstUnits = new Uint8Array(0x10000);

  constructor(entries: { content: string; token: LibAddedToken }[]) {
    for (const e of entries) {
      if (e.content.length === 0) continue;
      const first = e.content.charCodeAt(0);
      this.firstUnits[first] = 1;
      const list = this.byFirst.get(first) ?? [];
      list.push(e);
      this.byFirst.set(first, list);
    }
    for (const list of this.byFirst.values()) list.sort((x, y) => y.content.length - x.content.length);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  /**
   * Cuts text[from, to) into plain and added-token sections. An added token with lstrip (rstrip)
   * swallows the whitespace before (after) it, which then belongs to no section.
   */
  split(text: string, from = 0, to = text.length): Section[] {
    const sections: Section[] = [];
    let plainFrom = from;
    for (let i = from; i < to; ) {
      if (this.firstUnits[text.charCodeAt(i)] === 0) {
        i++;
        continue;
      }
      const hit = this.byFirst
        .get(text.charCodeAt(i))
        ?.find((e) => i + e.content.length <= to && text.startsWith(e.content, i));
      if (!hit) {
        i++;
        continue;
      }
      if (i > plainFrom) sections.push({ from: plainFrom, to: i });
      sections.push({ from: i, to: i + hit.content.length, added: hit.token });
      i += hit.content.length;
      plainFrom = i;
    }
    if (plainFrom < to) sections.push({ from: plainFrom, to });
    for (const [k, s] of sections.entries()) {
      if (!s.added) continue;
      const before = sections[k - 1];
      const after = sections[k + 1];
      if (s.added.lstrip && before && !before.added) {
        before.to = before.from + text.slice(before.from, before.to).trimEnd().length;
      }
      if (s.added.rstrip && after && !after.added) {
        const rest = text.slice(after.from, after.to);
        after.from += rest.length - rest.trimStart().length;
      }
    }
    // Sections emptied by stripping stay, so section indices match the library's (Metaspace "first").
    return sections;
  }
}
