// The moderator screens' strings, types and calls. This module is only imported by the
// moderation chunk (Moderation*.svelte), so ordinary users never download it.

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
  orders: "Orders",
  preserved: "Preserved copies",
  settings: "Settings",
  claim: "Claim",
  release: "Release",
  claimedBy: "Claimed by",
  claimedByYou: "Claimed by you",
  filters: "Filters",
  kind: "Kind",
  anyValue: "Any",
  age: "Waiting at least",
  hour: "1 hour",
  day: "1 day",
  week: "1 week",
  assignee: "Assignee",
  mine: "Mine",
  unclaimed: "Unclaimed",
  remove_media: "Remove the file everywhere",
  reveal: "Reveal",
  hideAgain: "Hide again",
  veiled: "Hidden for your wellbeing: reveal it with a click.",
  playVideo: "Play the video (muted)",
  playAudio: "Load the audio (muted)",
  history: "The person's earlier items",
  noHistory: "No earlier items.",
  appearances: "Where this file appears",
  matches: "Bank matches",
  distance: "distance",
  uploader: "Uploader",
  fileGone: "The file cannot be shown.",
  blur: "Blur pictures and video",
  greyscale: "Show pictures in greyscale",
  muted: "Mute audio and video",
  video_strip: "Show video as a strip of keyframes",
  saved: "Saved",
  shortcuts: "Keyboard shortcuts",
  kMove: "j / k — next / previous item",
  kOpen: "Enter or o — open the item",
  kClaim: "c — claim or release",
  kRemove: "r — remove (then Enter to decide)",
  kDismiss: "d — dismiss (then Enter to decide)",
  kBack: "Esc — back to the queue",
  kHelp: "? — show or hide this help",
  state: "State",
  received: "Received",
  channel: "Channel",
  response: "Response",
  annexII: "Annex II: carried out",
  annexIII: "Annex III: not carried out",
  withinHour: "within the hour",
  late: "after the hour",
  byMail: "An order that arrived by mail",
  issuingState: "Issuing state (two letters)",
  issuedAt: "Issued on",
  location: "Location of the content (link)",
  messageId: "Message id (if known)",
  enterOrder: "Enter the order",
  orderEntered: "Order entered: its clock runs from now",
  noOrders: "No orders.",
  target: "Target",
  preservedAt: "Preserved",
  purgeOn: "Purged on",
  reinstated: "reinstated",
  read: "Read",
  audited: "Every reading is in the audit log.",
  extend: "Extend",
  days: "Days",
  extended: "Kept longer",
  noCopies: "No preserved copies.",
  more: "More",
  claimFirst: "claim it to work on it",
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
  orders: "أوامر الإزالة",
  preserved: "النسخ المحفوظة",
  settings: "الإعدادات",
  claim: "تولّي العنصر",
  release: "ترك العنصر",
  claimedBy: "يتولاه",
  claimedByYou: "تتولاه أنت",
  filters: "التصفية",
  kind: "النوع",
  anyValue: "الكل",
  age: "ينتظر منذ",
  hour: "ساعة",
  day: "يوم",
  week: "أسبوع",
  assignee: "المتولّي",
  mine: "عناصري",
  unclaimed: "بلا متولٍّ",
  remove_media: "حذف الملف من كل مكان",
  reveal: "إظهار",
  hideAgain: "إخفاء مجددًا",
  veiled: "مخفي حفاظًا على سلامتك النفسية: انقر لإظهاره.",
  playVideo: "تشغيل الفيديو (بلا صوت)",
  playAudio: "تحميل الصوت (مكتوم)",
  history: "عناصر سابقة لهذا الشخص",
  noHistory: "لا عناصر سابقة.",
  appearances: "أين يظهر هذا الملف",
  matches: "تطابقات البنوك",
  distance: "المسافة",
  uploader: "الرافع",
  fileGone: "لا يمكن عرض الملف.",
  blur: "تمويه الصور والفيديو",
  greyscale: "عرض الصور بالأبيض والأسود",
  muted: "كتم الصوت",
  video_strip: "عرض الفيديو شريطًا من الإطارات",
  saved: "تم الحفظ",
  shortcuts: "اختصارات لوحة المفاتيح",
  kMove: "j / k — العنصر التالي / السابق",
  kOpen: "Enter أو o — فتح العنصر",
  kClaim: "c — تولّي العنصر أو تركه",
  kRemove: "r — حذف (ثم Enter للقرار)",
  kDismiss: "d — رفض البلاغ (ثم Enter للقرار)",
  kBack: "Esc — العودة إلى القائمة",
  kHelp: "? — إظهار هذه المساعدة أو إخفاؤها",
  state: "الحالة",
  received: "وصل",
  channel: "القناة",
  response: "الرد",
  annexII: "الملحق الثاني: نُفّذ",
  annexIII: "الملحق الثالث: لم يُنفّذ",
  withinHour: "خلال الساعة",
  late: "بعد الساعة",
  byMail: "أمر وصل بالبريد",
  issuingState: "الدولة المُصدِرة (حرفان)",
  issuedAt: "تاريخ الإصدار",
  location: "موضع المحتوى (رابط)",
  messageId: "رقم الرسالة (إن عُرف)",
  enterOrder: "إدخال الأمر",
  orderEntered: "أُدخل الأمر: تبدأ مهلته الآن",
  noOrders: "لا أوامر.",
  target: "الهدف",
  preservedAt: "حُفظت",
  purgeOn: "تُحذف في",
  reinstated: "أُعيدت",
  read: "قراءة",
  audited: "كل قراءة تُسجَّل في سجل التدقيق.",
  extend: "تمديد",
  days: "أيام",
  extended: "مُدّد الحفظ",
  noCopies: "لا نسخ محفوظة.",
  more: "المزيد",
  claimFirst: "تولَّه لتعمل عليه",
};

export function m(key: MKey | string): string {
  const table = i18n.locale === "ar" ? ar : en;
  return (table as Record<string, string>)[key] ?? key;
}

export interface Clock { due_at: number; seconds_left: number; state: string }
export interface Person { id: number; display_name: string; username: string | null }
export interface MediaInfo { id: string; kind: string; mime?: string; variants?: string[]; state?: string; duration?: number }
export interface Item {
  id: number; source: string; priority: number; target_type: string; target_id: number;
  target_key: string | null; chat_id: number | null; status: string; report_count: number;
  created_at: number; clock: Clock | null;
  claimed_by: number | null; claimed_by_name: string | null; claimed_at: number | null; claim_expires_at: number | null;
  context: {
    hidden?: boolean;
    message?: { id: number; text?: string; kind?: string; sender_id: number; media?: MediaInfo };
    media?: MediaInfo;
    sender?: Person | null;
    uploader?: Person | null;
    user?: Person | null;
    chat?: { id: number; title: string | null; kind: string } | null;
    history?: { id: number; source: string; target_type: string; status: string; decision: string | null; created_at: number }[];
    appearances?: { message_id: number; chat_id: number; chat_title: string | null; removed: boolean }[];
    matches?: { bank_name: string; signal: string; distance: number; outcome: string; created_at: number }[];
  };
  reports?: { id: number; reporter_id: number; reason: string; note: string; created_at: number }[];
}
export interface Order {
  id: number; item_id: number; issuing_authority: string; issuing_state: string; reference: string;
  reasons: string; location: string; state: string; clock: Clock | null; channel: string;
  received_at: number; issued_at: number; action_at: number | null; message_id: number | null;
  response: Record<string, unknown> | null;
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
export interface Copy {
  id: number; target_type: string; target_id: number; reason: string; item_id: number | null;
  preserved_at: number; keep_until: number; reinstated_at: number | null; content?: unknown;
}
/** Each moderator's preview settings, kept by the server (they follow the moderator). */
export interface Settings { blur: boolean; greyscale: boolean; muted: boolean; video_strip: boolean }
export interface Filters { source: string; reason: string; older_than_s: string; assignee: string }

export const queue = (f?: Partial<Filters>) => {
  const q = new URLSearchParams(Object.entries(f ?? {}).filter(([, v]) => v) as [string, string][]);
  const query = q.toString();
  return call<{ items: Item[] }>("GET", `/moderation/queue${query ? "?" + query : ""}`).then((r) => r.items);
};
export const item = (id: number) => call<Item>("GET", `/moderation/items/${id}`);
export const claim = (id: number, take: boolean) => call<Item>(take ? "POST" : "DELETE", `/moderation/items/${id}/claim`);
export const orders = () => call<{ orders: Order[] }>("GET", "/orders").then((r) => r.orders);
export const openAppeals = () => call<{ appeals: OpenAppeal[] }>("GET", "/moderation/appeals").then((r) => r.appeals);
export const banks = () => call<{ banks: Bank[] }>("GET", "/safety/banks").then((r) => r.banks);
export const copies = (before?: number) =>
  call<{ copies: Copy[] }>("GET", `/moderation/preserved-copies${before ? "?before=" + before : ""}`).then((r) => r.copies);
export const settings = () => call<Settings>("GET", "/moderation/settings");
export const saveSettings = (s: Partial<Settings>) => call<Settings>("PUT", "/moderation/settings", s);

/** An item's file as a blob: URL (the preview needs the token; never cached: no-store). */
export async function previewUrl(itemId: number, variant: string): Promise<string> {
  const res = await fetch(`/api/v1/moderation/items/${itemId}/media/${variant}`, { headers: { authorization: `Bearer ${bearer()}` } });
  if (!res.ok) throw new ApiError(res.status, "http", res.statusText);
  return URL.createObjectURL(await res.blob());
}

/** Shortcuts never fire while one types in a field, nor with a modifier held. */
export function shortcutKey(e: KeyboardEvent): string | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return null;
  const el = e.target as HTMLElement | null;
  if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return null;
  return e.key;
}

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

/** A date with its time (a purge date, an order's receipt): the time of day alone is not enough. */
export function when(ms: number): string {
  return new Date(ms).toLocaleString(i18n.locale, { dateStyle: "medium", timeStyle: "short" });
}

/** "12:03" from seconds; a live countdown is the deadline minus the local clock. */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
