// The small, always-loaded part of trust and safety: who may see the moderator screens,
// what to report, and the events about decisions. The screens themselves are dynamic
// imports in App.svelte, the moderator's a chunk of its own: ordinary users never download it.

import { call } from "./api";
import { on } from "./handlers";
import { t } from "./i18n.svelte";
import { toast } from "./state.svelte";
import type { ServerEvent } from "./types";

export type TargetType = "message" | "user" | "chat";

export const safety = $state({
  role: "user",
  report: null as null | { type: TargetType; id: number },
  restricted: null as null | { status: string; until: number | null },
});

export function isStaff(): boolean {
  return safety.role === "moderator" || safety.role === "operator";
}

/** The role is in the own profile only; it is read once per session. */
export async function loadRole(): Promise<void> {
  try {
    const me = await call<{ role?: string }>("GET", "/me");
    safety.role = me.role ?? "user";
  } catch {
    // offline: keep what we had; the moderator screens need the network anyway
  }
}

export function openReport(type: TargetType, id: number): void {
  safety.report = { type, id };
}

async function onSafetyEvent(ev: ServerEvent): Promise<void> {
  if (ev.type === "account.restricted") {
    safety.restricted = { status: String(ev.status), until: (ev.until as number | null) ?? null };
    toast(t("restricted"));
  } else if (ev.type === "report.resolved" || ev.type === "appeal.decided") {
    toast(`${t("safety")}: ${t("outcome")} ✓`);
  }
}
for (const type of ["account.restricted", "report.resolved", "appeal.decided"]) on(type, onSafetyEvent);
