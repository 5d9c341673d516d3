// "Download my data": ask the server for an export of your data (a job makes the zip),
// wait for it, and save it. Only the settings button imports this module, on a click, so it
// is in no screen's download before that.

import { ApiError, authHeader, call } from "./api";
import { i18n } from "./i18n.svelte";

const en = {
  dxMaking: "Making your data export…",
  dxDone: "Your data export is downloaded.",
  dxFailed: "The export could not be made; try again later.",
  dxSlow: "The export takes long; try again later to download it.",
};

const ar: Record<keyof typeof en, string> = {
  dxMaking: "جارٍ تجهيز نسخة من بياناتك…",
  dxDone: "تم تنزيل نسخة بياناتك.",
  dxFailed: "تعذّر تجهيز النسخة؛ حاول لاحقًا.",
  dxSlow: "تجهيز النسخة يستغرق وقتًا؛ حاول التنزيل لاحقًا.",
};

function dx(key: keyof typeof en): string {
  return (i18n.locale === "ar" ? ar : en)[key];
}

interface DataExport {
  id: number;
  state: "pending" | "ready" | "failed";
  download?: string;
  error?: string;
}

const POLL_MS = 1500;
const GIVE_UP_MS = 10 * 60_000;

async function start(): Promise<DataExport> {
  try {
    return await call<DataExport>("POST", "/me/exports");
  } catch (err) {
    // One is being made already (asked on another device, or before a reload): wait for it.
    if (!(err instanceof ApiError) || err.code !== "export_running") throw err;
    const { exports } = await call<{ exports: DataExport[] }>("GET", "/me/exports");
    return exports[0];
  }
}

/** Ask, wait, save; `say` is told what is happening, in the person's language. */
export async function downloadMyData(say: (text: string) => void): Promise<void> {
  let job = await start();
  say(dx("dxMaking"));
  const deadline = Date.now() + GIVE_UP_MS;
  while (job.state === "pending") {
    if (Date.now() > deadline) throw new Error(dx("dxSlow"));
    await new Promise((done) => setTimeout(done, POLL_MS));
    job = await call<DataExport>("GET", `/me/exports/${job.id}`);
  }
  if (job.state !== "ready" || !job.download) throw new Error(job.error ?? dx("dxFailed"));
  const res = await fetch(job.download, { headers: authHeader() }).catch(() => null);
  if (!res?.ok) throw new Error(dx("dxFailed"));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = `darbuka-data-${job.id}.zip`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  say(dx("dxDone"));
}
