// The strings of the attach preview and the photo viewer. Only those screens import this
// module, so it is not in the first download (like lib/moderation.ts).

import { i18n } from "./i18n.svelte";

const en = {
  apTitle: "Ready to send",
  apCaption: "Caption",
  apOriginalHint: "Off: photos are made smaller (at most 1,280 px) so they go fast and cost little data. On: each file goes as it is, at full size.",
  apSize: "To send: {size}",
  apAlbum: "{n} photos and videos go as one album",
  apRemove: "Remove",
  apShrinking: "making smaller…",
  vwTitle: "Photo viewer",
  vwClose: "Close",
  vwPrev: "Previous",
  vwNext: "Next",
  vwZoomIn: "Zoom in",
  vwZoomOut: "Zoom out",
  vwDownload: "Download original",
  vwOf: "{i} of {n}",
  sendOriginal: "Send original",
};

const ar: Record<keyof typeof en, string> = {
  apTitle: "جاهز للإرسال",
  apCaption: "تعليق",
  apOriginalHint: "عند الإيقاف: تُصغَّر الصور (1280 بكسل على الأكثر) لتُرسل بسرعة وبقليل من البيانات. عند التشغيل: يُرسل كل ملف كما هو بحجمه الكامل.",
  apSize: "حجم الإرسال: {size}",
  apAlbum: "تُرسل {n} من الصور والفيديوهات ألبومًا واحدًا",
  apRemove: "إزالة",
  apShrinking: "جارٍ التصغير…",
  vwTitle: "عارض الصور",
  vwClose: "إغلاق",
  vwPrev: "السابق",
  vwNext: "التالي",
  vwZoomIn: "تكبير",
  vwZoomOut: "تصغير",
  vwDownload: "تنزيل الأصل",
  vwOf: "{i} من {n}",
  sendOriginal: "إرسال الأصل",
};

export type MediaKey = keyof typeof en;

export function ms(key: MediaKey): string {
  return (i18n.locale === "ar" ? ar : en)[key];
}
