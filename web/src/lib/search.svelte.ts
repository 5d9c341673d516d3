// Message search (docs/web.md): the server's `/search`, or with no link what IndexedDB
// holds. Loaded with the search screen, not at first paint.
//
// `fold` is the server's normalisation (src/darbuka/storage/searchtext.py) written again
// for the offline search: case, diacritics (NFKD, marks dropped), Arabic tashkeel and
// tatweel, the alef forms, alef maqsura and teh marbuta. Online, the server's ranges count.

import { ApiError, call } from "./api";
import { db } from "./db";
import { selectChat } from "./chats.svelte";
import type { Chat, Message, User } from "./types";

export interface Hit {
  message: Message;
  ranges: [number, number][]; // [start, end) in UTF-16 code units of message.text
}

export interface Found {
  messages: Hit[];
  chats: Chat[];
  people: User[];
  next_before?: number;
  local: boolean; // searched on this device only (no link)
}

const LETTERS: Record<string, string> = {
  "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",
  "\u0649": "\u064a", "\u0629": "\u0647",
};
const DROP = /[\p{M}\p{Cf}\u0640]/gu;
const WORD = /[\p{L}\p{N}]+/gu;

function foldChar(ch: string): string {
  const base = (LETTERS[ch] ?? ch).normalize("NFKD").replace(DROP, "").toLowerCase();
  return [...base].map((c) => LETTERS[c] ?? c).join("");
}

/** Folded text and, per UTF-16 unit of it, the UTF-16 offset of the original character. */
export function fold(text: string): { text: string; origin: number[] } {
  let out = "";
  const origin: number[] = [];
  let at = 0;
  for (const ch of text) {
    const piece = foldChar(ch);
    out += piece;
    for (let i = 0; i < piece.length; i++) origin.push(at);
    at += ch.length;
  }
  return { text: out, origin };
}

export function queryWords(q: string): string[] {
  return [...new Set(fold(q).text.match(WORD) ?? [])].slice(0, 8);
}

/** Where `words` match `text` (each at a word's start), or [] when one is missing. */
export function highlight(text: string, words: string[]): [number, number][] {
  const f = fold(text);
  const ranges: [number, number][] = [];
  const seen = new Set<string>();
  for (const m of f.text.matchAll(WORD)) {
    const hits = words.filter((w) => m[0].startsWith(w));
    if (!hits.length) continue;
    hits.forEach((w) => seen.add(w));
    const hit = hits.reduce((a, b) => (b.length > a.length ? b : a));
    const start = f.origin[m.index];
    const lastOrigin = f.origin[m.index + hit.length - 1];
    let end = lastOrigin + (text.codePointAt(lastOrigin)! > 0xffff ? 2 : 1);
    while (end < text.length && foldChar(text[end]) === "" && text[end] > "\u007f") end++;
    ranges.push([start, end]);
  }
  return words.every((w) => seen.has(w)) ? ranges : [];
}

/** Text cut into plain and matched parts, for the screen to draw as text (never HTML). */
export function parts(text: string, ranges: [number, number][]): { text: string; hit: boolean }[] {
  const out: { text: string; hit: boolean }[] = [];
  let last = 0;
  for (const [a, b] of ranges) {
    if (a > last) out.push({ text: text.slice(last, a), hit: false });
    out.push({ text: text.slice(a, b), hit: true });
    last = b;
  }
  if (last < text.length) out.push({ text: text.slice(last), hit: false });
  return out;
}

export async function searchMessages(q: string, chatId: number | null, before?: number): Promise<Found> {
  const params = new URLSearchParams({ q, limit: "20" });
  if (chatId !== null) params.set("chat_id", String(chatId));
  if (before) params.set("before", String(before));
  try {
    const res = await call<Partial<Found> & { messages: Hit[] }>("GET", `/search?${params}`);
    return { ...res, chats: res.chats ?? [], people: res.people ?? [], local: false };
  } catch (err) {
    if (err instanceof ApiError && err.status === 0) return searchHere(q, chatId);
    throw err;
  }
}

/** The offline search: every message kept on this device, newest first. */
async function searchHere(q: string, chatId: number | null): Promise<Found> {
  const words = queryWords(q);
  const messages: Hit[] = [];
  let cur = await (await db()).transaction("messages").store.openCursor(null, "prev");
  while (cur && messages.length < 50) {
    const m = cur.value;
    if ((chatId === null || m.chat_id === chatId) && !m.deleted && m.text) {
      const ranges = words.length ? highlight(m.text, words) : [];
      if (ranges.length) messages.push({ message: m, ranges });
    }
    cur = await cur.continue();
  }
  return { messages, chats: [], people: [], local: true };
}

/** Opens the found message in its chat's history (Conversation loads the page ending there). */
export function openHit(hit: Hit): void {
  selectChat(hit.message.chat_id, hit.message.seq);
}
