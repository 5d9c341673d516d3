// Phone numbers as a person pastes them or an address book exports them. Only the text is
// split here; the server normalises each number (E.164) and counts what is not one.

/** The longest list one request may carry (the server answers 422 past it). */
export const MAX_NUMBERS = 10_000;

/** Numbers from pasted text: one per line, or separated by commas or semicolons. */
export function numbersOf(text: string): string[] {
  return text
    .split(/[\n\r,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The TEL values of a vCard file (versions 2.1, 3.0 and 4.0), in file order.
 *
 * Folded lines (continued by a leading space or tab) are unfolded first; a TEL line may
 * carry a group (`item1.TEL`), parameters (`TEL;TYPE=CELL`) and, in 4.0, a `tel:` URI with
 * an extension (`tel:+1-555-0100;ext=12`), which is dropped. */
export function telsOfVcard(text: string): string[] {
  const lines = text.replace(/\r\n?/g, "\n").replace(/\n[ \t]/g, "").split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(?:[\w-]+\.)?TEL(?:;[^:]*)?:(.*)$/i.exec(line);
    if (!m) continue;
    const value = m[1]
      .trim()
      .replace(/^tel:/i, "")
      .replace(/;.*$/, "")
      .trim();
    if (value) out.push(value);
  }
  return out;
}
