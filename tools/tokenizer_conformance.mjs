// Builds the tokenizer conformance set: >= 1000 diverse strings and the ids the HF `tokenizers`
// algorithm gives them, using the pure-JS reference @huggingface/tokenizers (offline).
//
//   cd SOMEWHERE && npm install @huggingface/tokenizers@0.2.0
//   NODE_PATH=SOMEWHERE/node_modules node tools/tokenizer_conformance.mjs \
//       data/tokenizer/minimax-01 tests/data/tokenizer/conformance.jsonl
//
// Each output line: {"text": ..., "ids": [...]} (special tokens recognised, no BOS/EOS added).
// Deterministic: the random strings come from a fixed-seed generator.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const mod = await import(require.resolve("@huggingface/tokenizers"));
const Tokenizer = mod.Tokenizer ?? mod.default?.Tokenizer ?? mod.default;

const [dir, outPath] = process.argv.slice(2);
const tj = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const tc = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tj, tc);

let seed = 0x12345678;
function rnd() { // xorshift32
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];

const texts = [];
const add = (s) => texts.push(s);

// hand-written cases
[
  "", " ", "  ", "\n", "\n\n", " \n", "\t", "\r\n", "\r\n\r\n", "a\r\nb", "   leading", "trailing   ", " \t \n mixed \u00a0 ws",
  "Hello world", " Hello world", "Hello World", "HELLO wORLD", "CamelCaseWordsHTTPServer", "hello\u00a0world", "ideographic\u3000space",
  "I'm you're they'll we'd she's it's I've", "I'M YOU'RE THEY'LL WE'D SHE'S", "i'M yOu'Re", "don't DON'T Don'T", "'s 's' ''s",
  "rock'n'roll", "O'Neil's", "l'amour", "the dog's ball's color", "12", "123", "1234", "1234567890", "3.14159", "1,000,000",
  "-42", "+1e-10", "0x1F 0b1010", "2024-11-22T10:00:00Z", "$100.00 €200 £3 ¥4",
  "<end_of_sentence>", "a<end_of_sentence>b", "<beginning_of_sentence>user name=user\nhi<end_of_sentence>\n",
  "<end_of_sentence><end_of_sentence>", "<end_of_sent", "<end_of_sentence", "end_of_sentence>", "<<end_of_sentence>>",
  "<begin_of_document><beginning_of_sentence>system ai_setting=assistant\nYou are helpful.<end_of_sentence>\n",
  "<think>\nreasoning\n</think>\nanswer", "<think>", "</think>", "<tool_calls>\n{\"name\": \"f\"}\n</tool_calls>",
  "https://example.com/path?q=1&r=2#frag", "http://user:pw@host:8080/a/b/c.html", "mailto:someone@example.org", "C:\\Windows\\System32",
  "/usr/local/bin/mmx --help", "~/.config/mmx/", "int main(void) { return 0; }", "for (int i = 0; i < n; i++) x[i] += y[i];",
  "def f(x):\n    return x ** 2\n", "    indented\n        more\n\tTab", "{\"key\": [1, 2, {\"a\": null}], \"b\": true}",
  "SELECT * FROM t WHERE a = 'b';", "#include <stdio.h>\n", "x=>x*2", "a&&b||!c", "i++ --j", "===", "!==", "...", "…", "—", "--",
  "¿Qué tal? ¡Bien!", "naïve café résumé", "Straße", "ÆØÅ æøå", "Ελληνικά κείμενα", "Привет, мир!", "Україна", "Հայերեն",
  "日本語のテキスト", "カタカナとひらがな", "中文文本，标点。", "繁體中文", "한국어 텍스트", "العربية نص", "עברית", "हिन्दी पाठ", "বাংলা",
  "ภาษาไทย", "ភាសាខ្មែរ", "ລາວ", "Tiếng Việt có dấu", "ქართული", "አማርኛ", "தமிழ்", "తెలుగు", "മലയാളം", "සිංහල", "မြန်မာ",
  "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪🇫🇷🇯🇵", "❤️", "✌🏿", "🧑🏻‍💻", "e\u0301", "a\u0300\u0301\u0302", "Z\u0351\u036b\u0343\u036a",
  "\u200b", "zero\u200bwidth", "\ufeffbom", "\u2028\u2029", "\u0085nel", "x\u00ady", "\u202eRTL override", "\u0000nul", "\u0007bell",
  "a".repeat(1500), "ab".repeat(700), "word ".repeat(300), "😀".repeat(100), "\n".repeat(50), " ".repeat(100) + "x",
  "Supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis", "x".repeat(3) + "1".repeat(40),
].forEach(add);

// contractions in all cases
for (const c of ["s", "t", "re", "ve", "m", "ll", "d"]) {
  for (const v of [c, c.toUpperCase(), c[0].toUpperCase() + c.slice(1)]) {
    add(`word'${v}`); add(`WORD'${v} next`); add(`x '${v}`); add(`'${v}`);
  }
}
// prose from the machine's license texts (not committed: only the excerpts below end up in the file)
const licDir = "/usr/share/common-licenses";
let prose = "";
try { for (const f of fs.readdirSync(licDir).sort()) { try { prose += fs.readFileSync(path.join(licDir, f), "utf8") + "\n"; } catch {} } } catch {}
if (prose.length > 0) {
  for (let i = 0; i < 250; i++) {
    const start = Math.floor(rnd() * (prose.length - 400));
    add(prose.slice(start, start + 20 + Math.floor(rnd() * 380)));
  }
}
// random mixtures of pieces from many scripts and classes
const alphabets = [
  "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n\r", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
  "αβγδεζηθικλμνξοπρστυφχψω", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "АБВГДЕ", "日本語中文字符測試漢字", "ひらがなカタカナ",
  "한국어텍스트", "العربيةنص", "עברית", "हिन्दीपाठ", "ภาษาไทย", "ភាសាខ្មែរ", "áéíóúñüçàèìòù", "\u0301\u0300\u0308\u0327",
  "😀😃😄😁🎉🚀👍🏽🏿❤️‍🔥", "\u00a0\u2000\u2003\u3000\u202f", "«»„“”‘’‹›", "€£¥₹₽", "½¾²³µ¶§©®™", "ｆｕｌｌｗｉｄｔｈ",
];
for (let i = 0; i < 500; i++) {
  let s = "";
  const n = 1 + Math.floor(rnd() * 40);
  for (let j = 0; j < n; j++) {
    const a = Array.from(pick(alphabets));
    const run = 1 + Math.floor(rnd() * 6);
    for (let k = 0; k < run; k++) s += pick(a);
  }
  add(s);
}
// random code points from many blocks (valid UTF-8, no lone surrogates)
const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f],
  [0x1780, 0x17ff], [0x1e00, 0x1eff], [0x2000, 0x206f], [0x2190, 0x22ff], [0x3000, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3],
  [0xfe00, 0xfe0f], [0xff00, 0xffef], [0x1f300, 0x1f6ff], [0x1f900, 0x1f9ff], [0x10000, 0x1007f], [0x20000, 0x2a6df]];
for (let i = 0; i < 250; i++) {
  let s = "";
  const n = 1 + Math.floor(rnd() * 30);
  for (let j = 0; j < n; j++) {
    const [lo, hi] = pick(blocks);
    s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
  }
  add(s);
}
// special tokens mixed into random text
const specials = ["<end_of_sentence>", "<beginning_of_sentence>", "<end_of_document>", "<begin_of_document>"];
for (let i = 0; i < 60; i++) add(pick(texts.slice(0, 150)) + pick(specials) + pick(texts.slice(0, 150)) + (rnd() < 0.5 ? pick(specials) : ""));

const out = fs.createWriteStream(outPath);
for (const text of texts) out.write(JSON.stringify({ text, ids: tok.encode(text, { add_special_tokens: false }).ids }) + "\n");
out.end();
console.error(`${texts.length} strings -> ${outPath}`);
