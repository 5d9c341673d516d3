// The moderator screens' strings and calls. This module is only imported by the moderation
// chunk (Moderation*.svelte), so ordinary users never download it.

import { ApiError, bearer, call } from "./api";
import { i18n } from "./i18n.svelte";

const en = {
  queue: "Queue",
  appeals: "Appeals",
  banks: "Banks",
  transparency: "Transparency report",
  refresh: "Refresh",
  emptyQueue: "The queue is empty.",
  noAppeals: "No open appeals.",
  noBanks: "No banks.",
  source: "Source",
  reports: "reports",
  priority: "priority",
  sender: "Sender",
  chat: "Chat",
  hidden: "hidden until decided",
  clock: "Time left",
  overdue: "overdue",
  open: "Open",
  action: "Action",
  remove_message: "Remove the message",
  suspend_user: "Suspend the user",
  ban_user: "Ban the user",
  close_chat: "Close the chat",
  dismiss: "Dismiss",
  ground: "Ground",
  terms: "Against our terms",
  illegal: "Illegal",
  reason: "Reason",
  clause: "Clause of the terms",
  legalGround: "Legal ground (law and article)",
  facts: "Facts and circumstances",
  endDate: "Suspended until",
  decide: "Decide",
  decided: "Decided",
  order: "Removal order",
  authority: "Authority",
  reference: "Reference",
  confirm: "Confirm removal",
  refuse: "Refuse (Annex III)",
  refuseReason: "Why it cannot be carried out",
  force_majeure: "Force majeure",
  de_facto_impossibility: "De facto impossibility",
  manifest_error: "Manifest error",
  missing_information: "Missing information",
  explanation: "Explanation",
  uphold: "Uphold",
  reverse: "Reverse",
  replyToUser: "Reply to the user",
  appealOf: "Appeal of statement",
  name: "Name",
  category: "Category",
  hashes: "Hashes",
  enabled: "enabled",
  createBank: "Create bank",
  importCsv: "Import a CSV file",
  csvFile: "CSV file",
  imported: "Imported",
  readOnly: "Read-only: only operators change banks.",
  reporterNote: "Reporter's note",
  item: "Item",
  referral: "Referral",
  hash_match: "Hash match",
  report: "Report",
};
type MKey = keyof typeof en;

const ar: Record<MKey, string> = {
  queue: "قائمة المراجعة",
  appeals: "الطعون",
  banks: "بنوك البصمات",
  transparency: "تقرير الشفافية",
  refresh: "تحديث",
  emptyQueue: "لا شيء للمراجعة.",
  noAppeals: "لا طعون مفتوحة.",
  noBanks: "لا بنوك.",
  source: "المصدر",
  reports: "بلاغات",
  priority: "الأولوية",
  sender: "المرسل",
  chat: "المحادثة",
  hidden: "مخفية حتى القرار",
  clock: "الوقت المتبقي",
  overdue: "تأخّر",
  open: "فتح",
  action: "الإجراء",
  remove_message: "حذف الرسالة",
  suspend_user: "تعليق المستخدم",
  ban_user: "حظر المستخدم",
  close_chat: "إغلاق المحادثة",
  dismiss: "رفض البلاغ",
  ground: "الأساس",
  terms: "مخالف لشروطنا",
  illegal: "غير قانوني",
  reason: "السبب",
  clause: "بند الشروط",
  legalGround: "الأساس القانوني (القانون والمادة)",
  facts: "الوقائع والظروف",
  endDate: "معلّق حتى",
  decide: "اتخاذ القرار",
  decided: "تم القرار",
  order: "أمر إزالة",
  authority: "الجهة",
  reference: "المرجع",
  confirm: "تأكيد الإزالة",
  refuse: "رفض (الملحق الثالث)",
  refuseReason: "سبب تعذّر التنفيذ",
  force_majeure: "قوة قاهرة",
  de_facto_impossibility: "استحالة فعلية",
  manifest_error: "خطأ واضح",
  missing_information: "معلومات ناقصة",
  explanation: "التوضيح",
  uphold: "تأييد",
  reverse: "إلغاء القرار",
  replyToUser: "الرد على المستخدم",
  appealOf: "طعن في القرار",
  name: "الاسم",
  category: "الفئة",
  hashes: "البصمات",
  enabled: "مفعّل",
  createBank: "إنشاء بنك",
  importCsv: "استيراد ملف CSV",
  csvFile: "ملف CSV",
  imported: "تم الاستيراد",
  readOnly: "للقراءة فقط: المشغّلون وحدهم يغيّرون البنوك.",
  reporterNote: "ملاحظة المبلّغ",
  item: "عنصر",
  referral: "إحالة",
  hash_match: "تطابق بصمة",
  report: "بلاغ",
};

export function m(key: MKey | string): string {
  const table = i18n.locale === "ar" ? ar : en;
  return (table as Record<string, string>)[key] ?? key;
}

export interface Clock { due_at: number; seconds_left: number; state: string }
export interface Item {
  id: number; source: string; priority: number; target_type: string; target_id: number;
  chat_id: number | null; status: string; report_count: number; created_at: number;
  clock: Clock | null;
  context: {
    hidden?: boolean;
    message?: { id: number; text?: string; kind?: string; sender_id: number };
    sender?: { id: number; display_name: string; username: string | null } | null;
    user?: { id: number; display_name: string; username: string | null } | null;
    chat?: { id: number; title: string | null; kind: string } | null;
  };
  reports?: { id: number; reporter_id: number; reason: string; note: string; created_at: number }[];
}
export interface Order {
  id: number; item_id: number; issuing_authority: string; issuing_state: string; reference: string;
  reasons: string; location: string; state: string; clock: Clock | null;
}
export interface OpenAppeal {
  id: number; statement_id: number; text: string; created_at: number;
  statement?: Record<string, unknown>;
  [k: string]: unknown;
}
export interface Bank {
  id: number; name: string; source: string; category: string; enabled: boolean; action: string;
  hashes: Record<string, number>;
}

export const queue = () => call<{ items: Item[] }>("GET", "/moderation/queue").then((r) => r.items);
export const item = (id: number) => call<Item>("GET", `/moderation/items/${id}`);
export const orders = () => call<{ orders: Order[] }>("GET", "/orders").then((r) => r.orders);
export const openAppeals = () => call<{ appeals: OpenAppeal[] }>("GET", "/moderation/appeals").then((r) => r.appeals);
export const banks = () => call<{ banks: Bank[] }>("GET", "/safety/banks").then((r) => r.banks);

/** A hash list goes as the raw file, not as JSON (docs/banks.md). */
export async function importBank(name: string, file: File): Promise<unknown> {
  const res = await fetch(`/api/v1/safety/banks/${encodeURIComponent(name)}/import?format=csv`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer()}`, "content-type": "text/csv" },
    body: await file.text(),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? "http", data?.error?.message ?? res.statusText);
  return data;
}

/** "12:03" from seconds; a live countdown is the deadline minus the local clock. */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
