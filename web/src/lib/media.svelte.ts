// Media in the client: attaching (shrink, tus upload, then the outbox send), downloads with
// the token (fetch → blob URL), and low-data mode. An outbox item with an attachment is
// sent only once its upload is complete; its client_id was made when it was written, so
// the send happens exactly once however often the upload is resumed.

import { authHeader } from "./api";
import { db } from "./db";
import { flushOutbox } from "./link";
import { enqueue, markOutbox, uploadsOf } from "./outbox.svelte";
import { app } from "./state.svelte";
import type { OutboxItem, OutboxUpload } from "./types";
import { create, mediaIdOf, resume, UploadError } from "./upload";

const MAX_SIDE = 1280; // photos are shrunk to this unless "send original" is chosen
const RETRY_CAP_MS = 15_000;

interface NetInfo {
  saveData?: boolean;
  effectiveType?: string;
}

function slowLink(): boolean {
  const c = (navigator as Navigator & { connection?: NetInfo }).connection;
  return !!c && (!!c.saveData || c.effectiveType === "2g" || c.effectiveType === "slow-2g");
}

const saved = localStorage.getItem("darbuka.lowData");
export const media = $state({
  // Low-data mode: nothing downloads by itself; media shows its placeholder and a tap loads it.
  lowData: saved === null ? slowLink() : saved === "1",
  // client_id → bytes the server holds
  sent: {} as Record<string, number>,
});

export function setLowData(on: boolean): void {
  media.lowData = on;
  localStorage.setItem("darbuka.lowData", on ? "1" : "0");
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The 64 levels (0–63) of a voice message's waveform, sent as base64url characters. */
export function waveLevels(wave: string | undefined): number[] {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return [...(wave ?? "")].map((c) => Math.max(0, abc.indexOf(c)));
}

// -- downloads ------------------------------------------------------------------------------
const urls = new Map<string, Promise<string>>();

/** A variant as a blob: URL (the download needs the token, which an <img src> can't send). */
export function mediaUrl(id: string, variant: string): Promise<string> {
  const key = `${id}/${variant}`;
  let p = urls.get(key);
  if (!p) {
    p = fetch(`/api/v1/media/${encodeURIComponent(id)}/${variant}`, { headers: authHeader() }).then(async (res) => {
      if (!res.ok) throw new Error(`download failed (${res.status})`);
      return URL.createObjectURL(await res.blob());
    });
    p.catch(() => urls.delete(key)); // a failed download may be tried again
    urls.set(key, p);
  }
  return p;
}

// -- attaching ------------------------------------------------------------------------------

/** A photo at most MAX_SIDE on its longer side, as JPEG (every browser encodes JPEG). */
export async function shrinkPhoto(file: Blob): Promise<{ blob: Blob; width: number; height: number }> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((ok) => canvas.toBlob(ok, "image/jpeg", 0.85));
  if (!blob) throw new Error("could not encode the photo");
  return { blob, width, height };
}

/** What a file goes as: image/* a photo, video/* a video, anything else a file. */
export function kindOf(file: Blob): OutboxUpload["kind"] {
  return file.type.startsWith("image/") ? "photo" : file.type.startsWith("video/") ? "video" : "file";
}

/** The attachment as it will be uploaded: a photo shrunk unless `original`. */
export async function prepare(
  blob: Blob,
  kind: OutboxUpload["kind"],
  opts: { name?: string; original?: boolean; duration?: number } = {},
): Promise<OutboxUpload> {
  const upload: OutboxUpload = { kind, blob, name: opts.name ?? "", size: blob.size, mime: blob.type, duration: opts.duration };
  // GIFs keep their animation: the server keeps the original and makes still variants.
  if (kind === "photo" && !opts.original && blob.type !== "image/gif") {
    try {
      const small = await shrinkPhoto(blob);
      Object.assign(upload, { blob: small.blob, size: small.blob.size, mime: "image/jpeg", width: small.width, height: small.height });
    } catch {
      // Not decodable here (HEIC in most browsers): send as it is; the server converts it.
    }
  }
  return upload;
}

export async function attach(
  chatId: number,
  blob: Blob,
  kind: OutboxUpload["kind"],
  opts: { name?: string; text?: string; original?: boolean; duration?: number } = {},
): Promise<void> {
  await enqueue({ chat_id: chatId, text: opts.text ?? "", upload: await prepare(blob, kind, opts) });
  void pumpUploads();
}

export const MAX_ALBUM = 10;

/** Photos and videos prepared together, as one album message (2 to MAX_ALBUM). */
export async function attachAlbum(chatId: number, uploads: OutboxUpload[], text: string): Promise<void> {
  await enqueue({ chat_id: chatId, text, album: uploads });
  void pumpUploads();
}

/** A sticker is already on the server: it goes straight to the outbox. */
export async function sendSticker(chatId: number, mediaId: string): Promise<void> {
  await enqueue({ chat_id: chatId, text: "", upload: { kind: "sticker", name: "", size: 0, mime: "image/webp", media_id: mediaId } });
  flushOutbox();
}

async function save(item: OutboxItem): Promise<void> {
  if (!app.outbox.some((o) => o.client_id === item.client_id)) return; // discarded meanwhile: don't bring it back
  await (await db()).put("outbox", $state.snapshot(item) as OutboxItem);
}

let pumping = false;
let again = false;
let failures = 0;
let retryTimer = 0;

/** Uploads every attachment still missing bytes, one at a time, in the order written. */
export async function pumpUploads(): Promise<void> {
  clearTimeout(retryTimer);
  if (pumping) {
    again = true;
    return;
  }
  pumping = true;
  try {
    do {
      again = false;
      const item = app.outbox.find((o) => o.state === "pending" && uploadsOf(o).some((u) => !u.media_id));
      if (!item) return;
      try {
        await uploadOne(item, uploadsOf(item).find((u) => !u.media_id)!);
        failures = 0;
        again = true;
      } catch (err) {
        if (err instanceof UploadError && err.status === 0) {
          // No link: wait (backoff with jitter, or the `online` event), then resume from HEAD.
          failures++;
          const wait = 500 + Math.random() * Math.min(RETRY_CAP_MS, 500 * 2 ** failures);
          retryTimer = window.setTimeout(pumpUploads, wait);
          return;
        }
        await markOutbox(item.client_id, "failed", (err as Error).message);
        again = true;
      }
    } while (again);
  } finally {
    pumping = false;
  }
}

async function uploadOne(item: OutboxItem, up: OutboxUpload): Promise<void> {
  if (!up.blob) throw new Error("the file is no longer here");
  if (!up.url) {
    up.url = await create(up.size, up.kind, up.name);
    await save(item); // a reload resumes this upload instead of starting over
  }
  try {
    // An album's progress counts its finished items too: one bar for the message.
    const done = uploadsOf(item).filter((u) => u !== up && u.media_id).reduce((sum, u) => sum + u.size, 0);
    await resume(up.url, up.blob, (n) => (media.sent[item.client_id] = done + n));
  } catch (err) {
    if (err instanceof UploadError && err.status === 404) {
      up.url = undefined; // expired on the server: start a new one next time
      await save(item);
      throw new UploadError(0, "upload expired");
    }
    throw err;
  }
  up.media_id = mediaIdOf(up.url);
  await save(item); // the blob stays until the message is stored: it is the bubble's preview
  flushOutbox();
}

window.addEventListener("online", () => void pumpUploads());
