// The strings of polls: their rows and the screen that makes one. Only those import this
// module, so it is not in the first download (like lib/mediastrings.ts).

import { i18n } from "./i18n.svelte";

const en = {
  poll: "Poll",
  pollAnonymous: "Anonymous poll",
  pollQuiz: "Quiz",
  pollClosed: "Closed",
  pollCloses: "Closes {time}",
  pollVotes: "{n} votes",
  pollVote: "Vote",
  pollRetract: "Take back vote",
  pollClose: "Close poll",
  pollWaiting: "Your vote goes when you are online",
  pollRight: "Right answer",
  pollWrong: "Wrong answer",
  pollNew: "New poll",
  pollQuestion: "Question",
  pollOption: "Option {n}",
  pollAddOption: "Add an option",
  pollRemoveOption: "Remove option {n}",
  pollMultiple: "Several answers allowed",
  pollPublic: "Show who voted for what",
  pollQuizMode: "Quiz: one right answer",
  pollCorrect: "Right answer: option {n}",
  pollExplanation: "Explanation (shown after answering)",
  pollCloseAt: "Close automatically at",
  pollCreate: "Create poll",
  pollNeeds: "A question and at least two different options",
};

const ar: Record<keyof typeof en, string> = {
  poll: "استطلاع",
  pollAnonymous: "استطلاع مجهول",
  pollQuiz: "اختبار",
  pollClosed: "مغلق",
  pollCloses: "يُغلق {time}",
  pollVotes: "{n} صوت",
  pollVote: "صوّت",
  pollRetract: "سحب الصوت",
  pollClose: "إغلاق الاستطلاع",
  pollWaiting: "يُرسل صوتك عند الاتصال",
  pollRight: "إجابة صحيحة",
  pollWrong: "إجابة خاطئة",
  pollNew: "استطلاع جديد",
  pollQuestion: "السؤال",
  pollOption: "الخيار {n}",
  pollAddOption: "إضافة خيار",
  pollRemoveOption: "إزالة الخيار {n}",
  pollMultiple: "يُسمح بعدة إجابات",
  pollPublic: "إظهار من صوّت لماذا",
  pollQuizMode: "اختبار: إجابة صحيحة واحدة",
  pollCorrect: "الإجابة الصحيحة: الخيار {n}",
  pollExplanation: "شرح (يظهر بعد الإجابة)",
  pollCloseAt: "الإغلاق تلقائيًا في",
  pollCreate: "إنشاء الاستطلاع",
  pollNeeds: "سؤال وخياران مختلفان على الأقل",
};

export type PollKey = keyof typeof en;

export function ps(key: PollKey, values: Record<string, string | number> = {}): string {
  let text = (i18n.locale === "ar" ? ar : en)[key];
  for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, String(value));
  return text;
}
