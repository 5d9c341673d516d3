// The photo and video viewer (ui/Viewer.svelte, imported on first open): which media it shows.
// It walks the open chat's photos and videos in order, albums item by item.

import { view } from "./state.svelte";
import type { Media, Message } from "./types";

export const viewer = $state({ id: "" });

export function openViewer(mediaId: string): void {
  viewer.id = mediaId;
}

export function closeViewer(): void {
  viewer.id = "";
}

export interface Shown {
  media: Media;
  message: Message;
}

/** The open chat's photos and videos, oldest first. */
export function chatMedia(): Shown[] {
  return view.messages.flatMap((message) => {
    if (message.deleted) return [];
    const items = message.album ?? (message.media ? [message.media] : []);
    return items.filter((m) => m.kind === "photo" || m.kind === "video").map((media) => ({ media, message }));
  });
}
