"""Walking a served site in a real browser: what each page must hold, as sentences.

``page_problems`` runs in the page: one h1 and it is the first heading, the site's
navigation and a skip link, and every piece of rendered text (HTML and SVG) at a contrast
of at least 4.5:1 against what is actually behind it (backgrounds composited up the tree;
for SVG text, the shapes painted under it).
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

MIN_CONTRAST = 4.5

_CHECKS = r"""
(layout) => {
  const problems = [];
  const headings = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")]
    .filter(h => h.getClientRects().length > 0);
  const h1s = headings.filter(h => h.tagName === "H1");
  if (h1s.length !== 1) problems.push(`${h1s.length} h1 elements`);
  if (headings.length && headings[0].tagName !== "H1")
    problems.push(`the first heading is ${headings[0].tagName}: ${headings[0].textContent.trim()}`);
  const skip = document.querySelector("a.tl-skip");
  if (layout && !document.querySelector("nav.tl-nav")) problems.push("no site navigation");
  if (layout && (!skip || !document.querySelector(skip.getAttribute("href"))))
    problems.push("no skip link to the content");

  const rgba = text => {
    const m = text && text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const htmlBackground = el => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const SHAPES = new Set(["rect", "polygon", "circle", "ellipse", "path"]);
  const svgBackground = text => {
    const box = text.getBoundingClientRect();
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    const layers = [];
    let base = null;
    for (const el of document.elementsFromPoint(x, y)) {
      if (el === text || text.contains(el) || el.closest("text")) continue;
      if (!(el instanceof SVGElement)) { base = htmlBackground(el); break; }
      if (!SHAPES.has(el.tagName)) continue;
      const s = getComputedStyle(el);
      const fill = rgba(s.fill);
      if (!fill) continue;
      fill.a *= Number(s.fillOpacity) * Number(s.opacity);
      if (fill.a > 0) layers.push(fill);
      if (fill.a >= 1) break;
    }
    let bg = base || htmlBackground(text.ownerSVGElement || document.body);
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const visible = el => {
    const s = getComputedStyle(el);
    if (s.visibility === "hidden" || s.display === "none" || Number(s.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0;
  };
  const low = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.trim()) continue;
    if (el.closest("script,style,title,desc,noscript,option,textarea")) continue;
    seen.add(el);
    if (!visible(el)) continue;
    const s = getComputedStyle(el);
    const inSvg = el instanceof SVGElement;
    const fg = rgba(inSvg ? s.fill : s.color);
    if (!fg) continue;
    if (inSvg) fg.a *= Number(s.fillOpacity);
    const bg = inSvg ? svgBackground(el) : htmlBackground(el);
    const found = ratio(over(fg, bg), bg);
    if (found < __MIN__)
      low.push(`${found.toFixed(2)}:1 "${node.textContent.trim().slice(0, 40)}" (${el.tagName.toLowerCase()}.${el.getAttribute("class") || ""})`);
  }
  if (low.length) problems.push(`text under __MIN__:1 contrast: ${low.slice(0, 8).join("; ")}`);
  return problems;
}
""".replace("__MIN__", str(MIN_CONTRAST))


async def page_problems(page: Page, *, layout: bool = True) -> list[str]:
    """What this page gets wrong about headings, navigation and contrast (``layout``:
    it is one of the site's pages, not a standalone document such as a report's)."""
    found: list[Any] = await page.evaluate(_CHECKS, layout)
    return [str(p) for p in found]


async def scrolls_sideways(page: Page) -> bool:
    """Whether the page itself (not a box inside it) is wider than the window."""
    width: int = await page.evaluate("document.documentElement.scrollWidth")
    window: int = await page.evaluate("window.innerWidth")
    return width > window
