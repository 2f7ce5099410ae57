import { secretMask } from '@waggle/contracts';

/** Shorter encodings than this are not masked on their own (they would mask ordinary text). */
const MIN_FORM_CHARS = 4;

/**
 * The parts of a value's base64 that stay the same wherever the value sits in a longer
 * encoded string (three alignments): `echo "user:$TOKEN" | base64` holds one of them.
 */
function base64Forms(value: Buffer): string[] {
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), value]).toString('base64');
    // Characters whose six bits all come from the value's bytes.
    const start = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + value.length)) / 6);
    const stable = encoded.slice(start, end);
    forms.push(stable, stable.replaceAll('+', '-').replaceAll('/', '_'));
  }
  // The whole value encoded alone, with its padding.
  const whole = value.toString('base64');
  forms.push(whole, value.toString('base64url'));
  return forms;
}

/** Every form of a value that could leak: as is, base64 (any alignment, url-safe too), URL-encoded, hex. */
export function formsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const url = encodeURIComponent(value);
  const forms = [
    value,
    ...base64Forms(bytes),
    url,
    url.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    url.replaceAll('%20', '+'),
    encodeURI(value),
    // Inside JSON the task printed: quotes, backslashes and control characters escaped.
    JSON.stringify(value).slice(1, -1),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
  return [...new Set(forms)].filter((form) => form === value || form.length >= MIN_FORM_CHARS);
}

/**
 * What an attempt's output passes through before it leaves the machine: every form of each
 * vault secret becomes `[secret:NAME]`, and each other secret the agent holds (its GitHub
 * token) becomes `[redacted]`. Longest forms first, so a value inside its own encoding is
 * never half replaced.
 */
export class SecretMask {
  private readonly replacements: { form: string; mask: string }[];
  /** Output held back at the end of a stream: a secret may be cut between two writes. */
  readonly holdBack: number;

  constructor(named: { name: string; value: string }[], anonymous: string[] = []) {
    const replacements = [
      ...named
        .filter((s) => s.value)
        .flatMap((s) => formsOf(s.value).map((form) => ({ form, mask: secretMask(s.name) }))),
      ...anonymous.filter(Boolean).map((value) => ({ form: value, mask: '[redacted]' })),
    ];
    this.replacements = replacements.sort((a, b) => b.form.length - a.form.length);
    this.holdBack = Math.max(0, ...this.replacements.map((r) => r.form.length - 1));
  }

  apply(text: string): string {
    let out = text;
    for (const { form, mask } of this.replacements) {
      if (out.includes(form)) {
        out = out.replaceAll(form, mask);
      }
    }
    return out;
  }

  /** A JSON value with every string (keys too) masked: a result's structured part, a help request. */
  applyJson<T>(value: T): T {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        return this.apply(v);
      }
      if (Array.isArray(v)) {
        return v.map(walk);
      }
      if (v && typeof v === 'object') {
        return Object.fromEntries(Object.entries(v).map(([k, inner]) => [this.apply(k), walk(inner)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}
