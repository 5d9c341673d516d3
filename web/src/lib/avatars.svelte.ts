// Setting and removing profile photos (own, or a group's/channel's). Loaded with the editor
// only, not at first paint. The picture is cut to a centred square of at most 640 px here,
// so a 12-MP photo costs ~60 KB on the wire instead of megabytes; the server makes the
// `small` (160 px) and `large` (640 px) variants from it.

import { ApiError, call } from "./api";
import { db, setKv } from "./db";
import { app, chatById } from "./state.svelte";
import type { Chat, User } from "./types";
import { create, mediaIdOf, resume, UploadError } from "./upload";

const SIDE = 640;

/** A centred square of the picture, at most SIDE px, as JPEG; null when the browser cannot
 * decode it (HEIC in most browsers, or not a picture at all: the server then decides). */
export async function squarePhoto(file: Blob): Promise<Blob | null> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  const crop = Math.min(bitmap.width, bitmap.height);
  const side = Math.min(SIDE, crop);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = side;
  const sx = (bitmap.width - crop) / 2;
  const sy = (bitmap.height - crop) / 2;
  canvas.getContext("2d")!.drawImage(bitmap, sx, sy, crop, crop, 0, 0, side, side);
  bitmap.close();
  return new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.88));
}

/** Why the server refused, in the interface's words where we know the reason. */
export type Refusal = "photoNotImage" | "photoTooLarge" | "photoOffline" | null;

export function refusalOf(err: unknown): Refusal {
  if (err instanceof UploadError || err instanceof ApiError) {
    if (err.status === 0) return "photoOffline";
    if (err.status === 415 || (err instanceof ApiError && ["media_corrupt", "unsupported_media_type"].includes(err.code))) {
      return "photoNotImage";
    }
    if (err.status === 413 || (err instanceof ApiError && err.code === "image_too_large")) return "photoTooLarge";
  }
  return null;
}

/** Uploads the picture (tus, kind avatar); `progress` gets the fraction sent. */
export async function uploadPhoto(file: Blob, progress: (done: number) => void): Promise<string> {
  const blob = (await squarePhoto(file)) ?? file;
  const url = await create(blob.size, "avatar", "avatar.jpg");
  await resume(url, blob, (sent) => progress(blob.size ? sent / blob.size : 1));
  return mediaIdOf(url);
}

/** Sets (media id) or removes (null) the photo of `target`: "me" or a chat id. */
export async function putPhoto(target: "me" | number, mediaId: string | null): Promise<void> {
  const path = target === "me" ? "/me/avatar" : `/chats/${target}/avatar`;
  const fresh = mediaId ? await call<User | Chat>("PUT", path, { media_id: mediaId }) : await call<User | Chat>("DELETE", path);
  if (target === "me") {
    const user = fresh as User;
    app.users[user.id] = user;
    if (app.session) {
      app.session.user = user;
      await setKv("session", $state.snapshot(app.session));
    }
    await (await db()).put("users", $state.snapshot(user) as User);
  } else {
    // The chat.updated event says the same; this makes the change show at once.
    const chat = chatById(target);
    if (!chat) return;
    delete chat.avatar;
    Object.assign(chat, fresh as Chat);
  }
}
