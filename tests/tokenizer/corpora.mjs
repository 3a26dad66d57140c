// Texts for the tokenizer parity tests. Each case: { name, text, special } (special = parse_special).
// Real text comes from stdlib's dataset packages (tests/tokenizer/package.json); hard cases are built here.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const data = (pkg) => path.join(here, "node_modules/@stdlib", pkg, "data");

// JavaScript strings may hold lone surrogates, which cannot be UTF-8; node-llama-cpp would see U+FFFD.
const clean = (s) => s.toWellFormed();

// Cuts s into pieces of about n UTF-16 units, never inside a surrogate pair.
function chunks(s, n) {
  const out = [];
  for (let i = 0; i < s.length;) {
    let j = Math.min(s.length, i + n);
    if (j < s.length && s.charCodeAt(j) >= 0xdc00 && s.charCodeAt(j) <= 0xdfff) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

export function mobyDick() {
  const dir = data("datasets-moby-dick");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".txt"))
    .sort((a, b) => parseInt(a.replace(/\D/g, ""), 10) - parseInt(b.replace(/\D/g, ""), 10));
  const cases = [];
  let book = "";
  for (const f of files) {
    const text = clean(fs.readFileSync(path.join(dir, f), "utf8"));
    book += text + "\n\n";
    cases.push({ name: `moby-dick/${f}`, text, special: false });
  }
  // The whole book again, cut every ~1000 characters (mid-word, mid-line): odd starts and ends.
  chunks(book, 1000).forEach((text, i) => cases.push({ name: `moby-dick/chunk-${i}`, text, special: false }));
  return cases;
}

export function sotu() {
  const dir = data("datasets-sotu");
  return fs.readdirSync(dir).filter((f) => f.endsWith(".txt")).sort()
    .map((f) => ({ name: `sotu/${f}`, text: clean(fs.readFileSync(path.join(dir, f), "utf8")), special: false }));
}

// Every 10th mail of the SpamAssassin corpus (~600), decoded as UTF-8 (invalid bytes → U+FFFD). The
// raw bytes of all mails are compared separately (pocket_tokenizer_check --files).
export function spamAssassin() {
  const dir = data("datasets-spam-assassin");
  const files = JSON.parse(fs.readFileSync(path.join(dir, "file_list.json"), "utf8"));
  const cases = [];
  files.forEach((f, i) => {
    if (i % 10 !== 0) return;
    const text = clean(fs.readFileSync(path.join(dir, f), "utf8"));
    if (text.length > 0) cases.push({ name: `spam-assassin/${f}`, text, special: false });
  });
  return cases;
}

// Deterministic PRNG (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `specialTexts`: texts of the model's CONTROL / USER_DEFINED / UNKNOWN tokens; `otherTexts`: further
// token texts worth probing (HTML tags 168–237, byte tokens, placeholders).
export function hardCases(specialTexts, otherTexts) {
  const cases = [];
  const add = (name, text, both = true) => {
    if (text.length === 0) return;
    cases.push({ name, text, special: false });
    if (both) cases.push({ name, text, special: true });
  };
  // Spec §7.5 vectors.
  for (const t of ["Hello world", " Hello world", "The quick brown fox jumps over the lazy dog.", "héllo 🤖 中文",
    "a\n\nb", "Describe this image.", "user\n", "model\n", "\n\n\n\n\n", "  ", "<table>"]) add(`spec/${JSON.stringify(t)}`, t);
  add("spec/chat", "<bos><|turn>user\nHi<turn|>\n<|turn>model\n");
  add("spec/chat-thought", "<|turn>model\n<|channel>thought\n<channel|>Hello<turn|>");
  add("spec/tool-call", '<|tool_call>call:get_weather{location:<|"|>Tokyo<|"|>}<tool_call|><|tool_response>');

  const scripts = {
    cjk: "日本語のテキストと中文文本，한국어 텍스트도 있습니다。東京タワー（とうきょうタワー）は、東京都港区芝公園にある総合電波塔。",
    arabic: "مرحبا بالعالم، هذا نص عربي مع أرقام ١٢٣ و 456.",
    hebrew: "שלום עולם, זהו טקסט בעברית.",
    hindi: "नमस्ते दुनिया, यह हिंदी पाठ है। क्षत्रिय ज्ञान",
    thai: "สวัสดีชาวโลก นี่คือข้อความภาษาไทย",
    russian: "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    greek: "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
    combining: "e\u0301 a\u0308 n\u0303 Z\u0336\u0311\u0350a\u0337\u0341l\u0338\u0314g\u0335\u034Bo\u0334",
    emoji: "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸🇩🇪🇯🇵🇫🇷 1️⃣ #️⃣ ❤️ 🫠 🧑🏿‍🚀 👩🏻‍❤️‍💋‍👨🏼",
    math: "∑∫√∞≠≤≥ ∀x∈ℝ: x²≥0 ½ ⅓ ¼ ∂f/∂x",
    currency: "€100 £50 ¥1000 ₹500 $3.50 ₿0.1",
    fullwidth: "ＡＢＣ１２３！？　ｱｲｳ",
    ligatures: "ﬁﬂﬀ ǅ ẞ ß İı",
    numbers: "1234567890 3.14159 1,000,000 -42 0x1F 1e-9 2025-07-09 12:34:56",
    urls: "https://example.com/path?q=1&x=y#frag mailto:someone@example.org C:\\Windows\\System32",
    control_chars: "a\u0001b\u0002c\u001Fd\u007Fe\u0085f\u00A0g\u2028h\u2029i\uFEFFj\u200Bk",
    private_use: "\uE000\uF8FF\u{F0000}\u{10FFFD}\uFFFD\uFFFE\uFFFF",
    spm_marker: "▁ ▁▁ a▁b ▁▁▁▁",
  };
  for (const [k, t] of Object.entries(scripts)) add(`script/${k}`, t);

  const code = {
    python: "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\nclass A:\n\tpass\n",
    cpp: "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) x *= 2;  // double\n  return 0;\n}\n",
    json: '{\n  "name": "pocket",\n  "list": [1, 2.5, null, true],\n  "nested": {"a": {"b": "c"}}\n}',
    yaml: "key:\n  - item1\n  - item2\n    nested: value\n",
    makefile: "all: main.o\n\t$(CC) -o app main.o\n\nclean:\n\trm -f *.o app\n",
    html: "<html><body><table><tr><td>1</td><td>2</td></tr></table><h1>T</h1><b>x</b><i>y</i></body></html>",
    html_spaced: "<tr> <td>1</td> </tr>\n<p> </p> <b> </b> a> </b x>  </y",
    markdown: "# Title\n\n* item\n* **bold** _it_ `code`\n\n```js\nconst x = 1;\n```\n",
  };
  for (const [k, t] of Object.entries(code)) add(`code/${k}`, t);

  // Whitespace runs 1..40 of each kind, alone and between words.
  for (const [k, ch] of [["space", " "], ["newline", "\n"], ["tab", "\t"], ["crlf", "\r\n"], ["cr", "\r"],
    ["nbsp", "\u00A0"], ["ideographic", "\u3000"], ["space-newline", " \n"], ["newline-space", "\n "]]) {
    for (let n = 1; n <= 40; n++) {
      add(`ws/${k}x${n}`, ch.repeat(n), false);
      add(`ws/a-${k}x${n}-b`, `a${ch.repeat(n)}b`, false);
    }
  }
  add("ws/leading-trailing", "   leading and trailing   ");
  add("ws/only-trailing", "text   ");
  add("ws/mixed", " \t \n\t\n  \r\n\r\n \t\t  x \n");
  add("ws/many-newlines", "\n".repeat(200));
  add("ws/many-spaces", " ".repeat(300));
  add("nul/one", "\0");
  add("nul/between", "a\0b\0\0c");
  add("nul/runs", "\0\0\0 \0\n\0");

  // Special token texts: alone, in text, adjacent, nested, partial; parse_special on and off.
  for (const t of specialTexts) {
    add(`special/${t}`, t);
    add(`special/in-text/${t}`, `Hello ${t} world`);
    add(`special/glued/${t}`, `x${t}y`);
    add(`special/twice/${t}`, `${t}${t}`);
    add(`special/nested/${t}`, `<${t}>`);
    if (t.length > 2) add(`special/partial/${t}`, t.slice(0, -1));
  }
  for (const t of otherTexts) {
    add(`token/${t}`, t);
    add(`token/in-text/${t}`, `see ${t} here`);
  }
  add("special/all-concatenated", specialTexts.join(""));
  add("special/all-spaced", specialTexts.join(" "));
  add("special/overlap", "<|turn|><turn|>|><|<|turn><|image|><|image>|>");

  // Long runs and words.
  add("long/word", "a".repeat(5000), false);
  add("long/robots", "🤖".repeat(500), false);
  add("long/cjk", "中".repeat(2000), false);
  add("long/no-spaces", "supercalifragilisticexpialidocious".repeat(100), false);
  add("long/digits", "0123456789".repeat(300), false);

  // Random strings from a pool of awkward pieces (seeded).
  const pool = ["a", "Z", "the", " ", "  ", "\n", "\n\n", "\t", "\r\n", "é", "ß", "中", "文", "🤖", "👍🏽", "‍", "🇺", "🇸",
    "<", ">", "|", "<|turn>", "<turn|>", "<bos>", "<eos>", "<|tool_call>", "<|\"|>", "<table>", "</s>", "<unused5>",
    "\0", "▁", "\uFFFD", "ـ", "ह", "\u0301", "'", "\"", "{", "}", "...", "—", "1", "23", "456", "\\", "`", "~"];
  const r = rng(20260709);
  for (let i = 0; i < 1500; i++) {
    let s = "";
    const n = 1 + Math.floor(r() * 30);
    for (let k = 0; k < n; k++) s += pool[Math.floor(r() * pool.length)];
    add(`random/${i}`, s);
  }
  return cases;
}
