// @mentions: finding them in message text (the server's rule: services/mentions.py), and
// the members the composer offers after "@". Mentions render as text in a <span>, never
// as HTML.

import type { Part } from "./linkify";
import { app } from "./state.svelte";
import type { User } from "./types";

export interface TextPart extends Part {
  mention?: string; // the username, lower case, without "@"
}

// As the server reads them: "@" not after a letter, digit, "_" or "@", then 4–32 characters.
const MENTION_RE = /(?<![\p{L}\p{N}_@])@([A-Za-z][A-Za-z0-9_]{3,31})(?![\p{L}\p{N}_])/gu;

/** Splits the plain (non-link) parts further into text and mentions. */
export function mentionize(parts: Part[]): TextPart[] {
  if (!parts.some((p) => !p.href && p.text.includes("@"))) return parts;
  const out: TextPart[] = [];
  for (const part of parts) {
    if (part.href || !part.text.includes("@")) {
      out.push(part);
      continue;
    }
    let last = 0;
    for (const m of part.text.matchAll(MENTION_RE)) {
      const at = m.index ?? 0;
      if (at > last) out.push({ text: part.text.slice(last, at) });
      out.push({ text: m[0], mention: m[1].toLowerCase() });
      last = at + m[0].length;
    }
    if (last < part.text.length) out.push({ text: part.text.slice(last) });
  }
  return out;
}

/** Whether a mention names the signed-in user. */
export function isMe(username: string): boolean {
  return app.session?.user.username?.toLowerCase() === username;
}

/** The "@query" the caret is right after, if any: where it starts and what was typed. */
export function queryAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(?:^|[^\p{L}\p{N}_@])@([^\s@]{0,32})$/u.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[1].length - 1, query: m[1] };
}

/** People with a username whose @username starts with, or whose name contains, `query`. */
export function matchPeople(people: User[], query: string, limit = 8): User[] {
  const q = query.toLocaleLowerCase();
  const scored: [number, User][] = [];
  for (const u of people) {
    if (!u.username) continue;
    const name = u.username.toLowerCase();
    const display = (u.display_name ?? "").toLocaleLowerCase();
    const score = name.startsWith(q) ? 0 : display.startsWith(q) ? 1 : display.includes(q) || name.includes(q) ? 2 : -1;
    if (score >= 0) scored.push([score, u]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].username!.localeCompare(b[1].username!));
  return scored.slice(0, limit).map(([, u]) => u);
}
