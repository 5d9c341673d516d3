// A small tus 1.0 client (creation + PATCH + HEAD to resume). Our server speaks only the
// core, creation and checksum parts, so ~80 lines here beat a 20 KB library in the bundle.
// A dropped link is not an error: the caller waits for the network and calls `resume`,
// which asks the server how far it got (HEAD) and sends only the rest.

import { authHeader } from "./api";

const TUS = { "tus-resumable": "1.0.0" };
// Small enough that progress moves on 2G and a drop loses little; large enough that the
// per-request overhead is small on fast links. `localStorage["darbuka.chunk"]` overrides.
const DEFAULT_CHUNK = 256 * 1024;

export class UploadError extends Error {
  constructor(
    public status: number, // 0 = no link (worth resuming)
    message: string,
  ) {
    super(message);
  }
}

function chunkSize(): number {
  const own = Number(localStorage.getItem("darbuka.chunk"));
  return own > 0 ? own : DEFAULT_CHUNK;
}

function b64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

async function request(method: string, url: string, headers: Record<string, string>, body?: Blob): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { ...TUS, ...authHeader(), ...headers }, body });
  } catch {
    throw new UploadError(0, "no connection");
  }
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new UploadError(res.status, data?.error?.message ?? res.statusText);
  }
  return res;
}

/** Creates the upload; returns its URL (its last part is the media id). */
export async function create(size: number, kind: string, name: string): Promise<string> {
  const res = await request("POST", "/api/v1/uploads/", {
    "upload-length": String(size),
    "upload-metadata": `kind ${b64(kind)},filename ${b64(name || kind)}`,
  });
  const location = res.headers.get("location");
  if (!location) throw new UploadError(500, "no upload URL");
  return location; // "/api/v1/uploads/<id>": same origin
}

export function mediaIdOf(url: string): string {
  return url.split("/").filter(Boolean).pop()!;
}

/** Sends what the server lacks, chunk by chunk; `progress(sent)` after each chunk. */
export async function resume(url: string, blob: Blob, progress: (sent: number) => void): Promise<void> {
  const head = await request("HEAD", url, {});
  let offset = Number(head.headers.get("upload-offset") ?? 0);
  progress(offset);
  const step = chunkSize();
  while (offset < blob.size) {
    const end = Math.min(blob.size, offset + step);
    const res = await request(
      "PATCH",
      url,
      { "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
      blob.slice(offset, end),
    );
    offset = Number(res.headers.get("upload-offset") ?? end);
    progress(offset);
  }
}
