// Interface strings. Arabic flips the whole interface to right-to-left; message text gets
// its own direction per message (dir="auto") whatever the interface language is.

const en = {
  app: "Darbuka",
  phone: "Phone number",
  phoneHint: "In international form, e.g. +44 7700 900123",
  sendCode: "Send code",
  code: "Code",
  signIn: "Sign in",
  codeInLog: "This server has no SMS gateway: the code is written to the server's log.",
  codeSent: "We sent a code to",
  back: "Back",
  chats: "Chats",
  search: "Search chats",
  noChats: "No chats yet. Start one with the + button.",
  newChat: "New chat",
  profile: "Profile",
  name: "Name",
  username: "Username",
  about: "About",
  save: "Save",
  saved: "Saved",
  signOut: "Sign out",
  yourId: "Your user id",
  message: "Message",
  messages: "Conversation",
  send: "Send",
  post: "Post",
  reply: "Reply",
  forward: "Forward",
  edit: "Edit",
  delete: "Delete",
  cancel: "Cancel",
  deleted: "Message deleted",
  edited: "edited",
  pending: "Waiting to send",
  sent: "Sent",
  read: "Read",
  failed: "Not sent",
  retry: "Retry",
  discard: "Discard",
  typing: "typing…",
  online: "Online",
  connecting: "Connecting…",
  offline: "Offline — messages will be sent when the connection returns",
  replyingTo: "Replying to",
  editing: "Editing",
  forwardTo: "Forward to…",
  forwarded: "Forwarded",
  direct: "Direct chat",
  group: "Group",
  channel: "Channel",
  title: "Title",
  description: "Description",
  publicChat: "Public (anyone can join)",
  userIdOf: "User id of the person",
  memberIds: "Member user ids (comma-separated)",
  create: "Create",
  join: "Join",
  joinHint: "Join a public group or channel by its id",
  chatId: "Chat id",
  members: "Members",
  membersCount: "members",
  subscribers: "subscribers",
  addMember: "Add member by user id",
  add: "Add",
  remove: "Remove",
  role: "Role",
  owner: "owner",
  admin: "admin",
  member: "member",
  subscriber: "subscriber",
  leave: "Leave chat",
  info: "Chat info",
  readOnly: "Only admins post in this channel.",
  unread: "unread",
  loadingOlder: "Loading older messages…",
  theme: "Theme",
  light: "Light",
  dark: "Dark",
  system: "System",
  language: "Language",
  close: "Close",
  emptyChat: "No messages yet.",
  you: "You",
  systemMsg: "Chat update",
  sysCreated: "created",
  sysJoined: "joined",
  sysLeft: "left",
  sysRenamed: "renamed the chat to",
  openChat: "Select a chat",
};

export type Key = keyof typeof en;

const ar: Record<Key, string> = {
  app: "دربكة",
  phone: "رقم الهاتف",
  phoneHint: "بالصيغة الدولية، مثل ‎+44 7700 900123",
  sendCode: "أرسل الرمز",
  code: "الرمز",
  signIn: "تسجيل الدخول",
  codeInLog: "لا توجد بوابة رسائل قصيرة على هذا الخادم: الرمز مكتوب في سجل الخادم.",
  codeSent: "أرسلنا رمزًا إلى",
  back: "رجوع",
  chats: "المحادثات",
  search: "ابحث في المحادثات",
  noChats: "لا محادثات بعد. ابدأ واحدة بزر +.",
  newChat: "محادثة جديدة",
  profile: "الملف الشخصي",
  name: "الاسم",
  username: "اسم المستخدم",
  about: "نبذة",
  save: "حفظ",
  saved: "تم الحفظ",
  signOut: "تسجيل الخروج",
  yourId: "معرّف المستخدم الخاص بك",
  message: "رسالة",
  messages: "المحادثة",
  send: "إرسال",
  post: "نشر",
  reply: "رد",
  forward: "إعادة توجيه",
  edit: "تعديل",
  delete: "حذف",
  cancel: "إلغاء",
  deleted: "حُذفت الرسالة",
  edited: "معدّلة",
  pending: "بانتظار الإرسال",
  sent: "أُرسلت",
  read: "قُرئت",
  failed: "لم تُرسل",
  retry: "أعد المحاولة",
  discard: "تجاهل",
  typing: "يكتب…",
  online: "متصل",
  connecting: "جارٍ الاتصال…",
  offline: "غير متصل — ستُرسل الرسائل عند عودة الاتصال",
  replyingTo: "رد على",
  editing: "تعديل",
  forwardTo: "إعادة توجيه إلى…",
  forwarded: "رسالة معاد توجيهها",
  direct: "محادثة خاصة",
  group: "مجموعة",
  channel: "قناة",
  title: "العنوان",
  description: "الوصف",
  publicChat: "عامة (يمكن لأي شخص الانضمام)",
  userIdOf: "معرّف المستخدم للشخص",
  memberIds: "معرّفات الأعضاء (مفصولة بفواصل)",
  create: "إنشاء",
  join: "انضمام",
  joinHint: "انضم إلى مجموعة أو قناة عامة بمعرّفها",
  chatId: "معرّف المحادثة",
  members: "الأعضاء",
  membersCount: "أعضاء",
  subscribers: "مشتركون",
  addMember: "أضف عضوًا بمعرّف المستخدم",
  add: "إضافة",
  remove: "إزالة",
  role: "الدور",
  owner: "المالك",
  admin: "مشرف",
  member: "عضو",
  subscriber: "مشترك",
  leave: "مغادرة المحادثة",
  info: "معلومات المحادثة",
  readOnly: "المشرفون فقط ينشرون في هذه القناة.",
  unread: "غير مقروءة",
  loadingOlder: "جارٍ تحميل الرسائل الأقدم…",
  theme: "المظهر",
  light: "فاتح",
  dark: "داكن",
  system: "النظام",
  language: "اللغة",
  close: "إغلاق",
  emptyChat: "لا رسائل بعد.",
  you: "أنت",
  systemMsg: "تحديث المحادثة",
  sysCreated: "أنشأ",
  sysJoined: "انضم",
  sysLeft: "غادر",
  sysRenamed: "غيّر اسم المحادثة إلى",
  openChat: "اختر محادثة",
};

export const LOCALES = { en: "English", ar: "العربية" } as const;
export type Locale = keyof typeof LOCALES;
const tables: Record<Locale, Record<Key, string>> = { en, ar };

function initial(): Locale {
  const saved = localStorage.getItem("locale");
  if (saved === "en" || saved === "ar") return saved;
  return navigator.language.startsWith("ar") ? "ar" : "en";
}

export const i18n = $state({ locale: initial() });

export function t(key: Key): string {
  return tables[i18n.locale][key];
}

export function setLocale(locale: Locale): void {
  i18n.locale = locale;
  localStorage.setItem("locale", locale);
  applyLocale();
}

export function applyLocale(): void {
  document.documentElement.lang = i18n.locale;
  document.documentElement.dir = i18n.locale === "ar" ? "rtl" : "ltr";
}

export function formatTime(value: number | string): string {
  const d = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(i18n.locale, { hour: "2-digit", minute: "2-digit" });
}
