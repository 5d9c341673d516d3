// Markup: ranges over a message's text (docs/api.md, "Markup"). Offsets count UTF-16 code
// units, which are JavaScript's own string indexes: nothing here converts. Styled text is
// rendered as text nodes inside spans and <a> elements; no markup is ever HTML.

import { safeHref } from "./linkify";
import type { TextPart } from "./mentions";

export type MarkupType =
  | "strong"
  | "emphasized"
  | "monospaced"
  | "code_block"
  | "strikethrough"
  | "underline"
  | "link"
  | "user_mention"
  | "heading"
  | "highlighted";

export interface Range {
  type: MarkupType;
  from: number;
  length: number;
  url?: string;
  user_id?: number;
}

/** A run of text with one set of styles: what RichText renders as one element. */
export interface Piece {
  text: string;
  styles: MarkupType[];
  href?: string; // a link range's (http(s) only) or a link found in the text
  mention?: string; // an @username found in the text
  userId?: number; // a user_mention range's user
  block?: boolean; // a heading or code block: its own line, its own direction
}

const VERBATIM = new Set<MarkupType>(["monospaced", "code_block"]);
const TARGETS = new Set<MarkupType>(["link", "user_mention"]);
const BLOCKS = new Set<MarkupType>(["heading", "code_block"]);

/** The text cut at every range's edge and every link and @mention found in it (`auto`:
 * linkify and mentionize, whose parts add up to `text`). Inside code and explicit links or
 * mentions, nothing found automatically counts. */
export function pieces(text: string, markup: Range[] | undefined, auto: TextPart[]): Piece[] {
  const ranges = (markup ?? []).filter((r) => r.from >= 0 && r.length > 0 && r.from + r.length <= text.length);
  const cuts = new Set([0, text.length]);
  for (const r of ranges) cuts.add(r.from).add(r.from + r.length);
  const found: { from: number; to: number; part: TextPart }[] = [];
  let at = 0;
  for (const part of auto) {
    const from = at;
    at += part.text.length;
    if (!part.href && !part.mention) continue;
    if (ranges.some((r) => (VERBATIM.has(r.type) || TARGETS.has(r.type)) && r.from < at && r.from + r.length > from)) continue;
    found.push({ from, to: at, part });
    cuts.add(from).add(at);
  }
  const edges = [...cuts].sort((a, b) => a - b);
  const out: Piece[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [a, b] = [edges[i], edges[i + 1]];
    const over = ranges.filter((r) => r.from <= a && r.from + r.length >= b);
    const piece: Piece = { text: text.slice(a, b), styles: over.map((r) => r.type) };
    const link = over.find((r) => r.type === "link");
    const mention = over.find((r) => r.type === "user_mention");
    if (link) piece.href = safeHref(link.url ?? "");
    else if (mention) piece.userId = mention.user_id;
    else {
      const auto = found.find((f) => f.from <= a && f.to >= b)?.part;
      if (auto?.href) piece.href = auto.href;
      else if (auto?.mention) piece.mention = auto.mention;
    }
    piece.block = over.some((r) => BLOCKS.has(r.type));
    // A block is its own line: the newline that ends it in the text is not shown again.
    if (out.at(-1)?.block && !piece.block && piece.text.startsWith("\n")) piece.text = piece.text.slice(1);
    if (piece.text) out.push(piece);
  }
  return out;
}

// -- the composer's shortcuts ------------------------------------------------------------

// As the Bot API's markdown (docs/bots.md, "Formatted text"), and ``` fences for a code block.
const PAIRS: Record<string, MarkupType> = { "**": "strong", __: "strong", "~~": "strikethrough", "++": "underline", "*": "emphasized", _: "emphasized" };
const RUNS = ["**", "__", "~~", "++", "*", "_"];
const ESCAPABLE = "\\`*_~+[]()";
const LINK = /\[((?:\\.|[^\]\\\n])+)\]\((https?:\/\/[^()\s]+)\)/y;

interface Marker {
  text: string;
  at: number;
  url?: string;
}

/** Plain text and its markup from what was typed: `**bold**`, `_italic_`, `` `code` ``,
 * `~~strike~~`, `++underline++`, `[text](https://…)`, ``` fences. A marker without a
 * partner stays text; `\*` is a literal `*`. */
export function parseShortcuts(source: string): { text: string; markup: Range[] } {
  const pieces: (string | Marker)[] = [];
  const open: Marker[] = [];
  const pairs: [Marker, Marker, MarkupType][] = [];
  const code: [number, MarkupType][] = [];
  const linkEnds = new Map<number, [number, string]>();
  const marker = (text: string, canOpen: boolean, canClose: boolean, url?: string) => {
    const m: Marker = { text, at: pieces.length, url };
    pieces.push(m);
    const partner = url === undefined ? text : "[";
    if (canClose) {
      for (let d = open.length - 1; d >= 0; d--) {
        if (open[d].text === partner && open[d].at < m.at - 1) {
          pairs.push([open[d], m, url === undefined ? PAIRS[text] : "link"]);
          open.length = d;
          return;
        }
      }
    }
    if (canOpen) open.push(m);
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const lineStart = i === 0 || source[i - 1] === "\n";
    let close: number;
    let link: RegExpExecArray | null;
    if (c === "\\" && ESCAPABLE.includes(source[i + 1] ?? " ")) {
      pieces.push(source[i + 1]);
      i += 2;
    } else if (linkEnds.has(i)) {
      const [end, url] = linkEnds.get(i)!;
      linkEnds.delete(i);
      marker(source.slice(i, end), false, true, url);
      i = end;
    } else if (lineStart && source.startsWith("```", i) && (close = fenceEnd(source, i)) > 0) {
      const body = source.indexOf("\n", i) + 1;
      code.push([pieces.length, "code_block"]);
      pieces.push(source.slice(body, close));
      i = close + 4;
    } else if (c === "`" && (close = source.indexOf("`", i + 1)) > i + 1 && !source.slice(i, close).includes("\n")) {
      code.push([pieces.length, "monospaced"]);
      pieces.push(source.slice(i + 1, close));
      i = close + 1;
    } else if (c === "[" && (link = linkAt(source, i))) {
      linkEnds.set(i + 1 + link[1].length, [i + link[0].length, link[2]]);
      marker("[", true, false);
      i += 1;
    } else {
      const run = RUNS.find((r) => source.startsWith(r, i));
      if (run) {
        const before = source[i - 1] ?? " ";
        const after = source[i + run.length] ?? " ";
        // Underscores inside a word (snake_case, URLs) are the word's.
        const inside = run[0] === "_" && /[\p{L}\p{N}]/u.test(before) && /[\p{L}\p{N}]/u.test(after);
        marker(run, !/\s/.test(after) && !inside, !/\s/.test(before) && !inside);
        i += run.length;
      } else {
        pieces.push(c);
        i += 1;
      }
    }
  }
  const paired = new Set(pairs.flatMap(([a, b]) => [a, b]));
  const starts: number[] = [];
  let text = "";
  for (const p of pieces) {
    starts.push(text.length);
    text += typeof p === "string" ? p : paired.has(p) ? "" : p.text;
  }
  starts.push(text.length);
  const markup: Range[] = pairs.map(([a, b, type]) => {
    const from = starts[a.at + 1];
    const range: Range = { type, from, length: starts[b.at] - from };
    if (type === "link") range.url = b.url;
    return range;
  });
  for (const [at, type] of code) markup.push({ type, from: starts[at], length: starts[at + 1] - starts[at] });
  return { text, markup: tidy(markup) };
}

function linkAt(source: string, i: number): RegExpExecArray | null {
  LINK.lastIndex = i;
  return LINK.exec(source);
}

/** Where the fence opened at `i` closes (the index of the "\n" before its ```), or -1. */
function fenceEnd(source: string, i: number): number {
  const body = source.indexOf("\n", i);
  if (body < 0) return -1;
  for (let at = source.indexOf("\n```", body); at >= 0; at = source.indexOf("\n```", at + 1)) {
    const after = source[at + 4];
    if (at > body && (after === undefined || after === "\n")) return at;
  }
  return -1;
}

/** Sorted as the server keeps them; empty ones, code holding styles (a style inside code
 * stays text) and a range inside one of its own kind dropped. */
function tidy(markup: Range[]): Range[] {
  const sorted = markup.filter((r) => r.length > 0).sort((a, b) => a.from - b.from || b.length - a.length);
  const kept: Range[] = [];
  for (const r of sorted) {
    const inside = kept.filter((k) => k.from <= r.from && k.from + k.length >= r.from + r.length);
    if (inside.some((k) => k.type === r.type || VERBATIM.has(k.type))) continue;
    kept.push(r);
  }
  return kept;
}

const WRITTEN: Partial<Record<MarkupType, [string, string]>> = {
  strong: ["**", "**"],
  emphasized: ["_", "_"],
  strikethrough: ["~~", "~~"],
  underline: ["++", "++"],
  monospaced: ["`", "`"],
  code_block: ["```\n", "\n```"],
};

/** The composer's text for editing a message: its markup written back as shortcuts. What
 * shortcuts cannot write (a mention, a heading, a highlight) is left out of the edit. */
export function toShortcuts(text: string, markup: Range[] | undefined): string {
  if (!markup?.length) return text;
  const written = write(text, markup, false);
  const back = parseShortcuts(written);
  return back.text === text ? written : write(text, markup, true);
}

function write(text: string, markup: Range[], escape: boolean): string {
  const opens = new Map<number, string[]>();
  const closes = new Map<number, string[]>();
  for (const r of markup) {
    const pair: [string, string] | undefined = r.type === "link" ? ["[", `](${r.url})`] : WRITTEN[r.type];
    if (!pair) continue;
    const end = r.from + r.length;
    opens.set(r.from, [...(opens.get(r.from) ?? []), pair[0]]); // outer ranges come first
    closes.set(end, [pair[1], ...(closes.get(end) ?? [])]); // and close last
  }
  let out = "";
  for (let i = 0; i <= text.length; i++) {
    out += (closes.get(i) ?? []).join("") + (opens.get(i) ?? []).join("");
    const c = text[i] ?? "";
    out += escape && ESCAPABLE.includes(c) && c ? "\\" + c : c;
  }
  return out;
}

/** Ctrl/Cmd+B, I, E: wrap the selection in a shortcut's markers, or unwrap it when it is
 * wrapped already. Answers the new value and selection. */
export function toggleWrap(value: string, start: number, end: number, mark: string): { value: string; start: number; end: number } {
  const n = mark.length;
  if (value.slice(start - n, start) === mark && value.slice(end, end + n) === mark) {
    return { value: value.slice(0, start - n) + value.slice(start, end) + value.slice(end + n), start: start - n, end: end - n };
  }
  return { value: value.slice(0, start) + mark + value.slice(start, end) + mark + value.slice(end), start: start + n, end: end + n };
}
