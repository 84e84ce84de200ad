// Search snippets come back with matches between [ and ]. Split them into parts to render as
// text and <mark>: never as HTML, since the snippet is note text.
export interface Part {
  text: string;
  hit: boolean;
}

export function snippetParts(s: string): Part[] {
  const parts: Part[] = [];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) parts.push({ text: s.slice(last, m.index), hit: false });
    parts.push({ text: m[1] ?? "", hit: true });
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push({ text: s.slice(last), hit: false });
  return parts;
}
