// Left-to-right text (a phone number, a @name) inside a sentence of either direction, as
// LRI … PDI. Made from char codes: Svelte warns on the characters, even written as escapes.
export const ltr = (text: string): string => String.fromCharCode(0x2066) + text + String.fromCharCode(0x2069);
