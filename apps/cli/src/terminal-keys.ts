import { MAX_SESSION_TEXT } from '@waggle/contracts';

/** What `POST /api/sessions/:machine/:session/send` takes: text typed literally, then tmux key names. */
export interface SendPiece {
  text?: string;
  keys?: string[];
}

/** Most keys in one send (the API's limit). */
const MAX_KEYS = 64;

/** The escape sequences terminals send for the keys people press in a CLI, as tmux names them. */
const SEQUENCES: Record<string, string> = {
  '[A': 'Up',
  '[B': 'Down',
  '[C': 'Right',
  '[D': 'Left',
  '[H': 'Home',
  '[F': 'End',
  OA: 'Up',
  OB: 'Down',
  OC: 'Right',
  OD: 'Left',
  OH: 'Home',
  OF: 'End',
  '[2~': 'IC',
  '[3~': 'DC',
  '[5~': 'PPage',
  '[6~': 'NPage',
  '[Z': 'BTab',
};

/**
 * Turns what a terminal in raw mode sends (printable text, Enter as CR, control characters,
 * escape sequences) into sends the API takes: runs of printable text as text, everything
 * else as tmux key names, in order (a send types its text before its keys, so text after
 * keys starts the next send). What has no tmux name (an unknown escape sequence) is left out.
 */
export function toSends(input: string): SendPiece[] {
  const sends: SendPiece[] = [];
  let current: SendPiece = {};
  const key = (name: string) => {
    if ((current.keys?.length ?? 0) >= MAX_KEYS) {
      sends.push(current);
      current = {};
    }
    (current.keys ??= []).push(name);
  };
  const text = (t: string) => {
    if (current.keys?.length || (current.text?.length ?? 0) + t.length > MAX_SESSION_TEXT) {
      sends.push(current);
      current = {};
    }
    current.text = (current.text ?? '') + t;
  };
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    const code = ch.charCodeAt(0);
    if (ch === '\r' || ch === '\n') {
      key('Enter');
    } else if (ch === '\t') {
      key('Tab');
    } else if (code === 0x7f || code === 0x08) {
      key('BSpace');
    } else if (code === 0x1b) {
      const rest = input.slice(i + 1);
      const seq = /^(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(rest)?.[0];
      if (seq) {
        const name = SEQUENCES[seq];
        if (name) {
          key(name);
        }
        i += seq.length;
      } else if (rest && rest.charCodeAt(0) >= 0x20 && rest.charCodeAt(0) !== 0x7f && /^[A-Za-z0-9]/.test(rest)) {
        key(`M-${rest[0]}`);
        i += 1;
      } else {
        key('Escape');
      }
    } else if (code >= 0x01 && code <= 0x1a) {
      key(`C-${String.fromCharCode(code + 0x60)}`);
    } else if (code >= 0x20) {
      text(ch);
    }
  }
  if (current.text !== undefined || current.keys?.length) {
    sends.push(current);
  }
  return sends;
}
