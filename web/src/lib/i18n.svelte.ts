// Interface strings. Arabic flips the whole interface to right-to-left; message text gets
// its own direction per message (dir="auto") whatever the interface language is.

import { ltr } from "./bidi";
import en, { type Key } from "./locales/en";

export { ltr, type Key };

export const LOCALES = { en: "English", ar: "العربية" } as const;
export type Locale = keyof typeof LOCALES;
type Table = Record<Key, string>;

// English comes with this module, for the first screen of most visits; every other language
// is a chunk of its own, fetched when it is the one shown (the service worker keeps them all,
// so a switch works offline after the first visit too).
const catalogs: Record<Exclude<Locale, "en">, () => Promise<{ default: Table }>> = {
  ar: () => import("./locales/ar"),
};
const tables: Partial<Record<Locale, Table>> = { en };

function initial(): Locale {
  const saved = localStorage.getItem("locale");
  if (saved === "en" || saved === "ar") return saved;
  return navigator.language.startsWith("ar") ? "ar" : "en";
}

// English until startLocale() has the chosen language's strings.
export const i18n = $state({ locale: "en" as Locale });

export function t(key: Key): string {
  return (tables[i18n.locale] ?? en)[key];
}

async function show(locale: Locale): Promise<void> {
  if (locale !== "en") tables[locale] ??= (await catalogs[locale]()).default;
  i18n.locale = locale;
  document.documentElement.lang = locale;
  document.documentElement.dir = locale === "ar" ? "rtl" : "ltr";
}

// The saved language, else the browser's: boot waits for it so the first screen shows in
// it. Its strings not to be had (a release replaced under an open page): English.
export async function startLocale(): Promise<void> {
  await show(initial()).catch((err) => console.warn("interface language not loaded", err));
}

// Rejects, leaving the language as it was, when the strings cannot be fetched.
export async function setLocale(locale: Locale): Promise<void> {
  await show(locale);
  localStorage.setItem("locale", locale);
}

export function formatTime(value: number | string): string {
  const d = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(i18n.locale, { hour: "2-digit", minute: "2-digit" });
}
