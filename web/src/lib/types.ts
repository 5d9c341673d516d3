// Shapes the server sends (see docs/api.md). Optional fields are left out when empty.

import type { Range } from "./markup";

/** A frame from the socket (docs/protocol.md): an event, or an answer to a frame we
 * sent (`ready`, `reset`, `ack`, `error`, `pong`). Events that move the cursor carry it. */
export type ServerEvent = { type: string; cursor?: string; [key: string]: unknown };

/** `reaction.counts` (channels): a message's reactions as every subscriber sees them, most
 * first, with nobody named and no `mine`. */
export type ReactionCounts = ServerEvent & {
  type: "reaction.counts";
  chat_id: number;
  message_id: number;
  reactions: { emoji: string; count: number }[];
};

/** A frame this client sends on the socket (docs/protocol.md): `send`, `read`, `delivered`, `typing`. */
export type ClientFrame = { type: string; [key: string]: unknown };

export interface User {
  id: number;
  display_name: string;
  username: string | null;
  about: string;
  kind?: string; // person | blogger | brand
  verified?: boolean; // marked by the operators: shown with a badge
  phone?: string;
  role?: string; // own profile only: user | moderator | operator
  avatar?: string; // profile photo: a media id (variants `small`, `large`)
}

export interface Forward {
  chat_id?: number;
  message_id?: number;
  sender_id?: number;
  [key: string]: unknown;
}

export interface Message {
  id: number;
  chat_id: number;
  seq: number;
  sender_id: number;
  client_id?: string;
  text?: string;
  kind?: string;
  created_at: number | string;
  reply_to?: number;
  forward_of?: Forward;
  system?: Record<string, unknown>;
  edited_at?: number | string;
  deleted?: boolean;
  removed?: boolean; // deleted by moderation, not by its author
  media?: Media; // an album's first item, as a one-media message has it
  album?: Media[]; // an album: every item, the first included
  markup?: Range[]; // styled ranges over `text` (lib/markup.ts)
  poll?: Poll; // kind "poll": `text` is its question
}

/** A poll as every member sees it (a quiz's answer is not in it: see PollResults). */
export interface Poll {
  options: string[];
  multiple: boolean;
  anonymous: boolean;
  quiz: boolean;
  close_at?: number;
  closed_at?: number;
}

/** A new poll, as sent (docs/api.md, PollBody). */
export interface PollSpec {
  options: string[];
  multiple?: boolean;
  anonymous?: boolean;
  quiz?: boolean;
  correct_option?: number;
  explanation?: string;
  close_at?: number;
}

/** A poll's results as this user sees them (GET …/poll, `poll.results`). */
export interface PollResults {
  message_id: number;
  counts: number[];
  voters: number;
  closed: boolean;
  mine?: number[];
  correct_option?: number; // a quiz, once answered or closed
  explanation?: string;
  voter_ids?: number[][]; // a public poll: who chose each option
}

/** What a media message carries about its media (docs/api.md, "media"). */
export interface Media {
  id: string;
  kind: string;
  mime: string;
  size: number;
  variants: string[];
  width?: number;
  height?: number;
  thumbhash?: string;
  duration?: number;
  waveform?: string;
  name?: string;
}

/** An attachment of an outbox item: uploaded (tus) before the message is sent. The blob is
 * kept in IndexedDB with the item, so a reload resumes at the server's offset. */
export interface OutboxUpload {
  kind: "photo" | "voice" | "video" | "file" | "sticker";
  blob?: Blob; // dropped once uploaded
  name: string;
  size: number;
  mime: string;
  url?: string; // the tus upload URL, once created
  media_id?: string; // set when every byte is in (or a sticker from a pack)
  width?: number;
  height?: number;
  duration?: number;
}

export type ChatKind = "direct" | "group" | "channel";
export type Role = "owner" | "admin" | "member" | "subscriber";

/** `until`: ms since the epoch, null = until turned off; `mentions`: they still notify. */
export interface Mute {
  until: number | null;
  mentions: boolean;
}

/** `updated_at` is the server's time: the latest wins. */
export interface Draft {
  text: string;
  updated_at: number;
}

export interface Chat {
  id: number;
  kind: ChatKind;
  title: string | null;
  description: string | null;
  owner_id: number;
  public: boolean;
  member_count: number;
  last_seq: number;
  created_at: number | string;
  avatar?: string; // a group's or channel's photo: a media id
  role?: Role;
  last_read_seq?: number;
  unread_count?: number;
  last_message?: Message;
  handle?: string; // public groups and channels: /c/<handle>
  sign_posts?: boolean; // a channel's posts show their admin's name
  slow_mode_s?: number; // members who are not admins post once per this many seconds
  join_approval?: boolean; // joins by handle or link wait for an admin
  pinned_message_id?: number;
  rights?: string[]; // your admin rights (GET /chats/{id}, owners and admins)
  mute?: Mute | null; // yours alone, on all your devices (lib/mutes.svelte.ts)
  draft?: Draft | null; // what you were writing there, on any device (lib/drafts.svelte.ts)
  // Client-side: the other person of a direct chat, and how far the others have read and
  // received (delivered is never behind read).
  peer_id?: number;
  others_read_seq?: number;
  others_delivered_seq?: number;
}

export interface Member {
  user_id: number;
  role: Role;
  last_read_seq: number;
  rights?: string[]; // owners and admins
  last_delivered_seq?: number;
}

/** A message written here and not yet stored by the server. Kept in IndexedDB. */
export interface OutboxItem {
  order?: number; // auto-increment key: the order it was written in
  client_id: string; // made when written; the server dedupes on it forever
  chat_id: number;
  text: string;
  reply_to?: number;
  forward_of?: number;
  created_at: number;
  state: "pending" | "failed";
  error?: string;
  upload?: OutboxUpload;
  album?: OutboxUpload[]; // photos and videos sent as one message (then no `upload`)
  markup?: Range[];
  poll?: PollSpec; // a new poll: `text` is its question
  vote?: { message_id: number; options: number[] }; // a vote (not a message): sent by HTTP
}
