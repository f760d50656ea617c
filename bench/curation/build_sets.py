#!/usr/bin/env python3
"""Builds the curation benchmark's datasets from files inside installed Debian 12 and PyPI packages, injects
defects with a seeded generator and writes a truth file per set. See bench/curation/README.md.

    python build_sets.py --out /work/curation-data [--set NAME ...] [--seed 20261207]

Each set goes to OUT/<set>/:
    data/          what `strata ingest` reads (text: data/<set>.jsonl records {id,text,label};
                   media: files + data/labels.csv with columns file,label)
    truth.jsonl    one row per item: {item, label, kind, of, detail, source}; kind "good" for clean items
    natural.jsonl  natural look-alike pairs among the good items {a, b, similarity, measure}: not defects;
                   a tool that merges them is not counted wrong (nor right)
    set.json       modality, counts per kind, provenance
"""
import argparse, csv, gzip, io, json, os, random, re, shutil, subprocess, sys, tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (fresh_dir, write_jsonl, write_set_meta, dedupe_texts, visible_gray, dedupe_vectors,
                    read_wav, write_wav, spectro_signature, sha256)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


def py_version(mod):
    try:
        import importlib.metadata as md
        return md.version(mod)
    except Exception:
        return "?"


# ====================================================================== text

def parse_fortunes(path):
    raw = Path(path).read_text(encoding="utf-8", errors="strict")
    out = []
    for chunk in raw.split("\n%\n"):
        t = ANSI.sub("", chunk).strip("\n")
        t = "\n".join(line.rstrip() for line in t.split("\n")).strip()
        if t and t != "%":
            out.append(t)
    return out


def is_cjk(text):
    n = sum(1 for c in text if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff")
    return n > 0.2 * max(1, len(text))


def near_text(rng, text, vocab, cjk_chars):
    """A near duplicate of `text`: one or two words (CJK: characters) changed, punctuation changed, or case changed."""
    cjk = is_cjk(text)
    ops = ["word", "word2", "punct"] + ([] if cjk else ["case"])
    op = rng.choice(ops)
    if op in ("word", "word2"):
        k = 1 if op == "word" else 2
        if cjk:
            idx = [i for i, c in enumerate(text) if "\u4e00" <= c <= "\u9fff" or "\u3040" <= c <= "\u30ff"]
            chars = list(text)
            picked = rng.sample(idx, min(k, len(idx)))
            for i in picked:
                chars[i] = rng.choice([c for c in cjk_chars if c != chars[i]])
            return "".join(chars), f"{len(picked)} character(s) replaced"
        words = list(re.finditer(r"[^\W\d_]{3,}", text))
        picked = sorted(rng.sample(words, min(k, len(words))), key=lambda m: m.start(), reverse=True)
        t = text
        for m in picked:
            t = t[:m.start()] + rng.choice([w for w in vocab if w != m.group(0)]) + t[m.end():]
        return t, f"{len(picked)} word(s) replaced"
    if op == "punct":
        if cjk:
            table = {"，": ",", "。": ".", "、": ",", "：": ":", "？": "?", "！": "!", "；": ";"}
            t = "".join(table.get(c, c) for c in text)
            if t == text:
                t = text + "。"
            return t, "full-width punctuation made ASCII (or a full stop added)"
        t = re.sub(r"[,;]", "", text)
        if t == text:
            t = text.rstrip(".!?") + ("!" if not text.endswith("!") else ".")
        return t, "punctuation removed or changed"
    t = text.lower() if text != text.lower() else text.upper()
    return t, "case changed"


def garbage_text(rng):
    pool = "!@#$%^&*()_+=-{}[]|;:<>?/~`\\'\"0123456789 "
    return "".join(rng.choice(pool) for _ in range(rng.randint(30, 200)))


def finish_text_set(name, items, out, rng, prefix, meta, n_exact, n_near, n_empty, n_garbage, natural):
    """items: cleaned good items [{text,label,source}]. Adds defects, shuffles, assigns neutral ids, writes."""
    root = out / name
    fresh_dir(root)
    (root / "data").mkdir()
    vocab = sorted({w for it in items for w in re.findall(r"[^\W\d_]{4,}", it["text"]) if not is_cjk(w)})
    cjk_chars = sorted({c for it in items for c in it["text"] if "\u4e00" <= c <= "\u9fff"})
    rows = [dict(it, kind="good", of=None, detail="") for it in items]
    for i, r in enumerate(rows):
        r["_k"] = i
    originals = rng.sample(range(len(items)), n_exact + n_near)
    for j, k in enumerate(originals):
        src = items[k]
        if j < n_exact:
            rows.append(dict(text=src["text"], label=src["label"], source=src["source"], kind="exact_duplicate",
                             of=k, detail="byte-identical text"))
        else:
            t, d = near_text(rng, src["text"], vocab or ["word"], cjk_chars or ["字"])
            if t == src["text"]:
                t = src["text"] + "!"
                d = "an exclamation mark added"
            rows.append(dict(text=t, label=src["label"], source=src["source"], kind="near_duplicate", of=k, detail=d))
    labels = sorted({it["label"] for it in items})
    for _ in range(n_empty):
        rows.append(dict(text=rng.choice(["", " ", "\n", "  \t "]), label=rng.choice(labels), source="injected",
                         kind="empty_text", of=None, detail="blank text"))
    for _ in range(n_garbage):
        rows.append(dict(text=garbage_text(rng), label=rng.choice(labels), source="injected", kind="garbage_text",
                         of=None, detail="symbol soup"))
    rng.shuffle(rows)
    ids = {}
    for n, r in enumerate(rows):
        r["id"] = f"{prefix}-{n:04d}"
        if "_k" in r:
            ids[r["_k"]] = r["id"]
    with open(root / "data" / f"{name}.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n")
    truth = [{"item": r["id"], "label": r["label"], "kind": r["kind"],
              "of": ids[r["of"]] if r["of"] is not None else None, "detail": r["detail"], "source": r["source"]}
             for r in rows]
    write_jsonl(root / "truth.jsonl", truth)
    write_jsonl(root / "natural.jsonl", [{"a": ids[a], "b": ids[b], "similarity": s, "measure": "char 5-gram Jaccard"}
                                         for a, b, s in natural])
    finish_meta(root, name, "text", truth, natural, meta)


def finish_meta(root, name, modality, truth, natural, meta):
    counts = {}
    for t in truth:
        counts[t["kind"]] = counts.get(t["kind"], 0) + 1
    per_label = {}
    for t in truth:
        if t["kind"] == "good":
            per_label[t["label"]] = per_label.get(t["label"], 0) + 1
    m = dict(name=name, modality=modality, items=len(truth), counts=counts, good_per_label=per_label,
             natural_pairs=len(natural))
    m.update(meta)
    write_set_meta(root, m)
    print(f"{name}: {len(truth)} items {counts}; natural pairs {len(natural)}", flush=True)


def balanced(rng, items, per_label):
    by = {}
    for it in items:
        by.setdefault(it["label"], []).append(it)
    out = []
    for lab in sorted(by):
        xs = by[lab]
        rng.shuffle(xs)
        out.extend(xs[:per_label])
    rng.shuffle(out)
    return out


def build_zh_poems(out, rng):
    base = Path("/usr/share/games/fortunes")
    items = []
    for f, lab in (("chinese", "misc"), ("tang300", "tang"), ("song100", "song")):
        for n, t in enumerate(parse_fortunes(base / f)):
            items.append(dict(text=t, label=lab, source=f"{base / f}#{n}"))
    items = [it for it in items if 10 <= len(it["text"]) <= 3000]
    rng.shuffle(items)
    items, natural = dedupe_texts(items)
    items = balanced(rng, items, 100)
    _, natural = dedupe_texts(items, drop_at=2.0)
    finish_text_set("zh_poems", items, out, rng, "zh", dict(
        description="Chinese texts without spaces: Tang and Song poems and Debian sayings (fortunes-zh)",
        provenance=f"Debian fortunes-zh {pkg_version('fortunes-zh')}: /usr/share/games/fortunes/{{chinese,tang300,song100}}",
        labels="file: misc (chinese), tang (tang300), song (song100)", license="GPL-2+ (package)"),
        n_exact=8, n_near=25, n_empty=4, n_garbage=4, natural=natural)


def render_man(path):
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    try:
        p = subprocess.run(f"man -l {path} 2>/dev/null | col -bx", shell=True, capture_output=True, env=env,
                           timeout=20)
        return p.stdout.decode("utf-8", "replace").strip()
    except subprocess.TimeoutExpired:
        return ""


def build_manpages(out, rng, name, mandir, sections, per_section, prefix, pkg, lang_desc):
    items = []
    for sec in sections:
        d = Path(mandir) / f"man{sec}"
        files = sorted(p for p in d.iterdir() if p.is_file() and not p.is_symlink())
        rng.shuffle(files)
        got = 0
        for f in files:
            if got >= per_section * 1.3:
                break
            t = render_man(f)
            if not (400 <= len(t) <= 60000) or "\ufffd" in t:
                continue
            items.append(dict(text=t, label=f"section{sec}", source=str(f)))
            got += 1
    rng.shuffle(items)
    items, _ = dedupe_texts(items)
    items = balanced(rng, items, per_section)
    _, natural = dedupe_texts(items, drop_at=2.0)
    finish_text_set(name, items, out, rng, prefix, dict(
        description=f"{lang_desc} man pages rendered to plain text (man -l | col -bx, 80 columns)",
        provenance=pkg, labels="man section: " + ", ".join(f"section{s}" for s in sections),
        license="per page (mostly GPL / BSD / free documentation licenses)"),
        n_exact=6, n_near=20, n_empty=3, n_garbage=3, natural=natural)


def build_manpages_en(out, rng):
    owners = "various Debian packages installed here (man-db " + pkg_version("man-db") + ")"
    build_manpages(out, rng, "manpages_en", "/usr/share/man", ["1", "5", "7", "8"], 40, "man", owners, "English")


def build_manpages_ja(out, rng):
    build_manpages(out, rng, "manpages_ja", "/usr/share/man/ja", ["1", "5", "8"], 50, "ja",
                   f"Debian manpages-ja {pkg_version('manpages-ja')}: /usr/share/man/ja", "Japanese")


def build_quotes(out, rng):
    base = Path("/usr/share/games/fortunes")
    items = []
    for lang, pkg in (("pl", "fortunes-pl"), ("cs", "fortunes-cs"), ("eo", "fortunes-eo"), ("bg", "fortunes-bg"),
                      ("ga", "fortunes-ga")):
        d = base / lang
        for f in sorted(d.iterdir()):
            if f.suffix in (".dat", ".u8") or f.is_symlink() or not f.is_file():
                continue
            try:
                texts = parse_fortunes(f)
            except UnicodeDecodeError:
                continue
            for n, t in enumerate(texts):
                if 40 <= len(t) <= 700:
                    items.append(dict(text=t, label=lang, source=f"{f}#{n}"))
    rng.shuffle(items)
    items = balanced(rng, items, 300)
    items, _ = dedupe_texts(items)
    items = balanced(rng, items, 60)
    _, natural = dedupe_texts(items, drop_at=2.0)
    finish_text_set("quotes_multi", items, out, rng, "q", dict(
        description="short quotes and jokes (40-700 characters) in Polish, Czech/Slovak, Esperanto, Bulgarian, Irish",
        provenance="; ".join(f"Debian {p} {pkg_version(p)}" for p in
                             ("fortunes-pl", "fortunes-cs", "fortunes-eo", "fortunes-bg", "fortunes-ga")),
        labels="language: pl, cs, eo, bg, ga", license="per package (GPL / public domain)"),
        n_exact=8, n_near=25, n_empty=4, n_garbage=4, natural=natural)


# ====================================================================== images

def img_near(rng, im, fmt):
    """A near duplicate of image `im` (PIL): re-encode, small resize, small crop, brightness, slight noise."""
    op = rng.choice(["reencode", "resize", "crop", "brightness", "noise"])
    w, h = im.size
    if op == "reencode":
        return im.copy(), op, ("jpeg q=75" if fmt == "jpeg" else "png re-encoded (same pixels, other bytes)")
    if op == "resize":
        f = rng.choice([0.9, 0.93, 1.08, 1.12])
        nw, nh = max(1, round(w * f)), max(1, round(h * f))
        return im.resize((nw, nh), Image.LANCZOS), op, f"resized to {nw}x{nh}"
    if op == "crop":
        dx, dy = max(1, round(w * 0.04)), max(1, round(h * 0.04))
        return im.crop((dx, dy, w - dx, h - dy)), op, f"{dx}/{dy} px cropped from each side"
    if op == "brightness":
        f = rng.choice([0.88, 1.12])
        if im.mode == "RGBA":
            rgb, a = im.convert("RGB"), im.getchannel("A")
            out = ImageEnhance.Brightness(rgb).enhance(f).convert("RGBA")
            out.putalpha(a)
            return out, op, f"brightness x{f}"
        return ImageEnhance.Brightness(im).enhance(f), op, f"brightness x{f}"
    arr = np.asarray(im).astype(np.float64)
    sigma = 5.0
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, sigma, arr.shape)
    if im.mode == "RGBA":
        noise[..., 3] = 0
    out = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), im.mode)
    return out, op, f"gaussian noise sigma {sigma}"


def save_img(im, path, fmt, variant=0):
    if fmt == "jpeg":
        im.convert("RGB" if im.mode not in ("L", "RGB") else im.mode).save(path, "JPEG", quality=92 if variant == 0 else 75)
    else:
        if variant == 0:
            im.save(path, "PNG", compress_level=9)
        else:
            im.save(path, "PNG", compress_level=1)


def finish_image_set(name, items, out, rng, prefix, fmt, meta, n_exact, n_near, n_blank, n_tiny, natural,
                     blank_mode):
    """items: [{img (PIL), label, source}] cleaned good images."""
    root = out / name
    fresh_dir(root)
    data = root / "data"
    data.mkdir()
    ext = "jpg" if fmt == "jpeg" else "png"
    rows = [dict(img=it["img"], label=it["label"], source=it["source"], kind="good", of=None, detail="", v=0, _k=i)
            for i, it in enumerate(items)]
    originals = rng.sample(range(len(items)), n_exact + n_near)
    for j, k in enumerate(originals):
        src = items[k]
        if j < n_exact:
            rows.append(dict(copy_of=k, label=src["label"], source=src["source"], kind="exact_duplicate", of=k,
                             detail="byte-identical file"))
        else:
            im, op, d = img_near(rng, src["img"], fmt)
            rows.append(dict(img=im, label=src["label"], source=src["source"], kind="near_duplicate", of=k,
                             detail=d, v=1 if op == "reencode" else 0))
    labels = sorted({it["label"] for it in items})
    sizes = sorted(it["img"].size for it in items)
    tw, th = sizes[len(sizes) // 2]
    for b in range(n_blank):
        mode = items[0]["img"].mode
        g = np.random.default_rng(rng.randint(0, 2**31))
        if blank_mode == "alpha" and b % 2 == 0:
            arr = np.zeros((th, tw, 4), np.uint8)
            arr[..., b % 3] = 40 * (b + 1)  # invisible colour under alpha 0: each blank is distinct, none an exact copy
            d = "fully transparent"
        else:
            ch = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
            col = g.integers(0, 256, ch).astype(np.float64)
            if ch == 4:
                col[3] = 255
            arr = np.broadcast_to(col, (th, tw, ch)).copy()
            if b % 3 == 1:
                arr[..., :3 if ch >= 3 else 1] += g.normal(0, 1.0, (th, tw, 3 if ch >= 3 else 1))
                d = "near-uniform (colour + noise sigma 1)"
            else:
                d = "uniform colour"
            arr = np.clip(arr, 0, 255).astype(np.uint8)
            if ch == 1:
                arr = arr[..., 0]
        rows.append(dict(img=Image.fromarray(arr, mode), label=rng.choice(labels), source="injected",
                         kind="blank_image", of=None, detail=f"{d}, {tw}x{th}", v=0))
    for _ in range(n_tiny):
        src = items[rng.randrange(len(items))]
        s = rng.randint(2, 6)
        im = src["img"].resize((s, s), Image.LANCZOS)
        rows.append(dict(img=im, label=src["label"], source=src["source"], kind="tiny_image", of=None,
                         detail=f"{s}x{s} px", v=0))
    rng.shuffle(rows)
    names = {}
    for n, r in enumerate(rows):
        r["file"] = f"{prefix}_{n:04d}.{ext}"
        if "_k" in r:
            names[r["_k"]] = r["file"]
    for r in rows:
        if "copy_of" in r:
            continue
        save_img(r["img"], data / r["file"], fmt, r["v"])
    for r in rows:
        if "copy_of" in r:
            shutil.copyfile(data / names[r["copy_of"]], data / r["file"])
    with open(data / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label"])
        for r in sorted(rows, key=lambda r: r["file"]):
            w.writerow([r["file"], r["label"]])
    truth = [{"item": r["file"], "label": r["label"], "kind": r["kind"],
              "of": names[r["of"]] if r["of"] is not None else None, "detail": r["detail"], "source": r["source"]}
             for r in rows]
    write_jsonl(root / "truth.jsonl", truth)
    write_jsonl(root / "natural.jsonl", [{"a": names[a], "b": names[b], "similarity": s,
                                          "measure": "NCC of 16x16 grey (alpha on mid-grey)"} for a, b, s in natural])
    finish_meta(root, name, "image", truth, natural, meta)


def clean_images(items, size=16, drop_at=0.97, natural_at=0.9):
    vecs = [visible_gray(it["img"], size) for it in items]
    kept, natural = dedupe_vectors(vecs, drop_at, natural_at)
    pos = {k: n for n, k in enumerate(kept)}
    return [items[k] for k in kept], [(pos[a], pos[b], s) for a, b, s in natural]


def build_glyphs28(out, rng):
    fonts = []
    for d in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
              "/usr/share/fonts/truetype/freefont"):
        if os.path.isdir(d):
            fonts += sorted(str(p) for p in Path(d).glob("*.ttf") if "ExtraLight" not in p.name)
    items = []
    for f in fonts:
        font = ImageFont.truetype(f, 22)
        for ch in "0123456789":
            im = Image.new("L", (28, 28), 0)
            dr = ImageDraw.Draw(im)
            l, t, r, b = dr.textbbox((0, 0), ch, font=font)
            dr.text(((28 - (r - l)) / 2 - l, (28 - (b - t)) / 2 - t), ch, fill=255, font=font)
            items.append(dict(img=im, label=f"digit{ch}", source=f"{f} U+{ord(ch):04X} at 22 px"))
    rng.shuffle(items)
    items, natural = clean_images(items, size=28, drop_at=0.97, natural_at=0.93)
    finish_image_set("glyphs28", items, out, rng, "g", "png", dict(
        description="28x28 grayscale digits rendered from 40-odd TrueType fonts (white on black, like MNIST)",
        provenance="; ".join(f"Debian {p} {pkg_version(p)}" for p in
                             ("fonts-dejavu-core", "fonts-liberation", "fonts-freefont-ttf")) +
        f"; rendered with Pillow {py_version('pillow')}",
        labels="digit0..digit9", license="fonts: Bitstream Vera/DejaVu, SIL OFL, GPL-3+ with font exception"),
        n_exact=8, n_near=30, n_blank=5, n_tiny=5, natural=natural, blank_mode="gray")


def build_icons_alpha(out, rng):
    base = Path("/usr/share/icons/oxygen/base/48x48")
    items, seen = [], set()
    for ctx in sorted(p.name for p in base.iterdir() if p.is_dir()):
        files = sorted(p for p in (base / ctx).glob("*.png") if not p.is_symlink())
        rng.shuffle(files)
        got = 0
        for f in files:
            if got >= 45:
                break
            h = sha256(f)
            if h in seen:
                continue
            im = Image.open(f).convert("RGBA")
            if im.size != (48, 48) or im.getchannel("A").getextrema()[0] == 255:
                continue
            seen.add(h)
            items.append(dict(img=im, label=ctx, source=str(f)))
            got += 1
    rng.shuffle(items)
    items, natural = clean_images(items, size=24, drop_at=0.97, natural_at=0.9)
    finish_image_set("icons_alpha", items, out, rng, "icon", "png", dict(
        description="48x48 RGBA icons with transparency, several contexts",
        provenance=f"Debian oxygen-icon-theme {pkg_version('oxygen-icon-theme')}: /usr/share/icons/oxygen/base/48x48/<context>/",
        labels="icon context (actions, apps, categories, devices, emblems, emotes, mimetypes, places, status, animations)",
        license="LGPL-3+ (Oxygen icons)"),
        n_exact=8, n_near=30, n_blank=6, n_tiny=5, natural=natural, blank_mode="alpha")


def build_photos(out, rng):
    import skimage
    sk = Path(skimage.__file__).parent / "data"
    import matplotlib
    mpl = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data"
    srcs = [(sk / f, f.split(".")[0]) for f in
            ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg",
             "retina.jpg", "ihc.png", "camera.png", "moon.png", "brick.png", "grass.png", "gravel.png", "coins.png")]
    srcs.append((mpl / "grace_hopper.jpg", "grace_hopper"))
    items = []
    for path, lab in srcs:
        im = Image.open(path)
        im = im.convert("L") if im.mode in ("L", "I", "I;16", "1") else im.convert("RGB")
        W, H = im.size
        lab = lab.replace("_", "-")
        # the whole photo, downscaled to a random longer side
        s = rng.choice([160, 240, 320, 480])
        f = s / max(W, H)
        items.append(dict(img=im.resize((max(8, round(W * f)), max(8, round(H * f))), Image.LANCZOS), label=lab,
                          source=f"{path} whole, scaled to longer side {s}"))
        # non-overlapping tiles of random sizes on a grid, each rescaled
        got = 0
        for _ in range(60):
            if got >= 10:
                break
            t = rng.choice([96, 128, 160, 200, 256])
            if W < t or H < t:
                continue
            x, y = rng.randrange(0, W - t + 1), rng.randrange(0, H - t + 1)
            box = (x, y, x + t, y + t)
            if any(it["label"] == lab and "box" in it and not (box[2] <= it["box"][0] or box[0] >= it["box"][2] or
                                                               box[3] <= it["box"][1] or box[1] >= it["box"][3])
                   for it in items):
                continue
            tile = im.crop(box)
            if np.asarray(tile.convert("L"), dtype=np.float64).std() < 12:
                continue
            z = rng.choice([0.5, 0.75, 1.0])  # never upscaled: an upscaled crop is blurry for real
            items.append(dict(img=tile.resize((round(t * z), round(t * z)), Image.LANCZOS), label=lab, box=box,
                              source=f"{path} crop {box} scaled x{z}"))
            got += 1
    rng.shuffle(items)
    items, natural = clean_images(items, size=16, drop_at=0.97, natural_at=0.9)
    finish_image_set("photos", items, out, rng, "photo", "jpeg", dict(
        description="photos of different sizes (48-480 px, never upscaled): whole photos and non-overlapping crops, JPEG",
        provenance=f"PyPI scikit-image {py_version('scikit-image')} (skimage/data/*.png|jpg), matplotlib "
                   f"{py_version('matplotlib')} (mpl-data/sample_data/grace_hopper.jpg)",
        labels="source photo (astronaut, chelsea, coffee, rocket, ...)",
        license="scikit-image data: public domain / CC0 / CC-BY (see skimage/data/README.txt)"),
        n_exact=6, n_near=25, n_blank=5, n_tiny=5, natural=natural, blank_mode="rgb")


def build_faces25(out, rng):
    import skimage
    arr = np.load(Path(skimage.__file__).parent / "data" / "lfw_subset.npy")
    items = []
    for i, a in enumerate(arr):
        if (a * 255).std() < 12:
            continue  # near-uniform background patches (17 of the 100) are blanks, not clearly good items
        im = Image.fromarray(np.clip(np.round(a * 255), 0, 255).astype(np.uint8), "L")
        items.append(dict(img=im, label="face" if i < 100 else "background",
                          source=f"skimage/data/lfw_subset.npy[{i}]"))
    rng.shuffle(items)
    items, natural = clean_images(items, size=25, drop_at=0.97, natural_at=0.93)
    finish_image_set("faces25", items, out, rng, "f", "png", dict(
        description="25x25 grayscale photo patches: faces and non-face background patches",
        provenance=f"PyPI scikit-image {py_version('scikit-image')}: skimage/data/lfw_subset.npy (a subset of "
                   "Labeled Faces in the Wild)",
        labels="face, background (100 each in the file; background patches with a grey standard deviation under 12 left out)", license="LFW: research use (see skimage/data)"),
        n_exact=6, n_near=20, n_blank=4, n_tiny=4, natural=natural, blank_mode="gray")


# ====================================================================== audio

def sox(*args):
    subprocess.run(["sox", "-R", "-D", *map(str, args)], check=True, capture_output=True)


def audio_near(rng, x, rate, tmp):
    op = rng.choice(["gain", "trim", "reencode", "resample", "noise"])
    if op == "gain":
        g = rng.choice([0.5, 0.7, 1.25])
        return x * g, op, f"gain x{g}"
    if op == "trim":
        ms = rng.choice([30, 50, 80])
        n = int(rate * ms / 1000)
        return x[n:len(x) - n // 2], op, f"{ms} ms trimmed at the start, {ms // 2} at the end"
    if op == "reencode":
        return x.copy(), op, "re-encoded as FLAC (same samples, other container)"
    if op == "resample":
        a, b = tmp / "a.wav", tmp / "b.wav"
        write_wav(a, x, rate)
        sox(a, "-r", 8000, b)
        sox(b, "-r", rate, a)
        y, _ = read_wav(a)
        return y, op, "resampled to 8 kHz and back"
    p = np.sqrt(np.mean(x ** 2))
    y = x + np.random.default_rng(rng.randint(0, 2**31)).normal(0, p / (10 ** (30 / 20)), len(x))
    return y, op, "white noise at 30 dB SNR"


def finish_audio_set(name, items, out, rng, prefix, meta, n_exact, n_near, n_silent, n_clipped, natural):
    root = out / name
    fresh_dir(root)
    data = root / "data"
    data.mkdir()
    tmp = Path(tempfile.mkdtemp())
    rows = [dict(x=it["x"], label=it["label"], source=it["source"], kind="good", of=None, detail="", ext="wav", _k=i)
            for i, it in enumerate(items)]
    rate = items[0]["rate"]
    originals = rng.sample(range(len(items)), n_exact + n_near)
    for j, k in enumerate(originals):
        src = items[k]
        if j < n_exact:
            rows.append(dict(copy_of=k, label=src["label"], source=src["source"], kind="exact_duplicate", of=k,
                             detail="byte-identical file", ext="wav"))
        else:
            y, op, d = audio_near(rng, src["x"], rate, tmp)
            rows.append(dict(x=y, label=src["label"], source=src["source"], kind="near_duplicate", of=k, detail=d,
                             ext="flac" if op == "reencode" else "wav"))
    labels = sorted({it["label"] for it in items})
    durs = sorted(len(it["x"]) for it in items)
    n0 = durs[len(durs) // 2]
    for s in range(n_silent):
        g = np.random.default_rng(rng.randint(0, 2**31))
        n = n0 + s * rate // 100  # lengths 10 ms apart: no two silent clips are byte-identical copies
        if s % 2 == 0:
            x, d = np.zeros(n), "digital silence"
        else:
            x, d = g.normal(0, 10 ** (-70 / 20), n), "noise at -70 dBFS"
        rows.append(dict(x=x, label=rng.choice(labels), source="injected", kind="silent_audio", of=None,
                         detail=f"{d}, {n / rate:.2f} s", ext="wav"))
    for _ in range(n_clipped):
        src = items[rng.randrange(len(items))]
        x = np.clip(src["x"] / max(1e-9, np.abs(src["x"]).max()) * 8.0, -1.0, 1.0)
        frac = float(np.mean(np.abs(x) >= 0.999))
        rows.append(dict(x=x, label=src["label"], source=src["source"], kind="clipped_audio", of=None,
                         detail=f"gain x8 over full scale, {frac:.0%} of samples clipped", ext="wav"))
    rng.shuffle(rows)
    names = {}
    for n, r in enumerate(rows):
        r["file"] = f"{prefix}_{n:04d}.{r['ext']}"
        if "_k" in r:
            names[r["_k"]] = r["file"]
    for r in rows:
        if "copy_of" in r:
            continue
        if r["ext"] == "flac":
            write_wav(tmp / "f.wav", r["x"], rate)
            sox(tmp / "f.wav", data / r["file"])
        else:
            write_wav(data / r["file"], r["x"], rate)
    for r in rows:
        if "copy_of" in r:
            shutil.copyfile(data / names[r["copy_of"]], data / r["file"])
    shutil.rmtree(tmp)
    with open(data / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label"])
        for r in sorted(rows, key=lambda r: r["file"]):
            w.writerow([r["file"], r["label"]])
    truth = [{"item": r["file"], "label": r["label"], "kind": r["kind"],
              "of": names[r["of"]] if r["of"] is not None else None, "detail": r["detail"], "source": r["source"]}
             for r in rows]
    write_jsonl(root / "truth.jsonl", truth)
    write_jsonl(root / "natural.jsonl", [{"a": names[a], "b": names[b], "similarity": s,
                                          "measure": "log band-energy NCC, best offset"} for a, b, s in natural])
    finish_meta(root, name, "audio", truth, natural, meta)


def clean_audio(items, drop_at=0.97, natural_at=0.9):
    sigs = [spectro_signature(it["x"], it["rate"]) for it in items]
    from common import spectro_similarity
    kept, natural = [], []
    for i, s in enumerate(sigs):
        best, close = -1.0, []
        for k in kept:
            if items[k]["label"] != items[i]["label"]:
                continue
            v = spectro_similarity(sigs[k], s)
            best = max(best, v)
            if v >= natural_at:
                close.append((k, v))
        if best >= drop_at:
            continue
        for k, v in close:
            natural.append((k, i, round(v, 3)))
        kept.append(i)
    pos = {k: n for n, k in enumerate(kept)}
    return [items[k] for k in kept], [(pos[a], pos[b], s) for a, b, s in natural]


WORDS = {
    "en": ["seven", "eight", "nine", "zero", "hello", "water"],
    "de": ["eins", "zwei", "drei", "vier", "haus", "katze"],
    "fr": ["un", "deux", "trois", "quatre", "maison", "chat"],
    "es": ["uno", "dos", "tres", "cuatro", "casa", "gato"],
}
VARIANTS = [("", 175), ("+m3", 175), ("+f2", 175), ("+f4", 160), ("", 215), ("+croak", 175)]


def build_words(out, rng):
    tmp = Path(tempfile.mkdtemp())
    items = []
    for lang, words in WORDS.items():
        for w in words:
            for var, speed in VARIANTS:
                raw, wav = tmp / "raw.wav", tmp / "w.wav"
                subprocess.run(["espeak-ng", "-v", lang + var, "-s", str(speed), "-w", str(raw), w], check=True,
                               capture_output=True)
                sox(raw, "-r", 16000, "-c", 1, "-b", 16, wav, "silence", 1, 0.01, "-45d", "reverse", "silence", 1,
                    0.01, "-45d", "reverse", "pad", 0.05, 0.05, "norm", -3)
                x, rate = read_wav(wav)
                if not (0.15 <= len(x) / rate < 1.0):
                    continue
                items.append(dict(x=x, rate=rate, label=f"{lang}.{w}",
                                  source=f"espeak-ng -v {lang}{var} -s {speed} '{w}'"))
    shutil.rmtree(tmp)
    rng.shuffle(items)
    items, natural = clean_audio(items)
    finish_audio_set("words", items, out, rng, "w", dict(
        description="sub-second spoken words (0.2-1.0 s) in four languages, six voice variants/speeds, 16 kHz mono",
        provenance=f"Debian espeak-ng {pkg_version('espeak-ng')} (voices en, de, fr, es with variants m3, f2, f4, croak; "
                   f"speeds 160-215), trimmed/normalised with sox {pkg_version('sox')}",
        labels="language.word (e.g. de.zwei)", license="synthesised output (espeak-ng GPL-3)"),
        n_exact=6, n_near=25, n_silent=5, n_clipped=5, natural=natural)


PROGRAMS = [(0, "piano"), (4, "piano"), (11, "mallet"), (12, "mallet"), (16, "organ"), (19, "organ"),
            (24, "guitar"), (26, "guitar"), (32, "bass"), (33, "bass"), (40, "strings"), (42, "strings"),
            (56, "brass"), (57, "brass"), (65, "reed"), (71, "reed"), (73, "pipe"), (79, "pipe")]
PITCHES = [48, 55, 60, 67, 72]


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def build_notes(out, rng):
    tpq, gap_ticks = 480, 960  # 120 bpm: 480 ticks = 0.5 s; one note every 2.0 s, held 1.0 s
    ev = bytearray()
    ev += vlq(0) + bytes([0xFF, 0x51, 0x03]) + (500000).to_bytes(3, "big")
    plan = []
    for prog, fam in PROGRAMS:
        for p in PITCHES:
            plan.append((prog, fam, p))
    for i, (prog, fam, p) in enumerate(plan):
        ev += vlq(0 if i == 0 else 4 * tpq - 2 * tpq) + bytes([0xC0, prog])
        ev += vlq(0) + bytes([0x90, p, 100])
        ev += vlq(2 * tpq) + bytes([0x80, p, 0])
    ev += vlq(4 * tpq) + bytes([0xFF, 0x2F, 0x00])
    midi = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big") + tpq.to_bytes(2, "big")
    midi += b"MTrk" + len(ev).to_bytes(4, "big") + bytes(ev)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "notes.mid").write_bytes(midi)
    sf = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    subprocess.run(["fluidsynth", "-ni", "-g", "0.6", "-r", "16000", "-T", "wav", "-F", str(tmp / "all.wav"), sf,
                    str(tmp / "notes.mid")], check=True, capture_output=True)
    sox(tmp / "all.wav", "-b", 16, "-c", 1, tmp / "mono.wav")
    x, rate = read_wav(tmp / "mono.wav")
    shutil.rmtree(tmp)
    items = []
    for i, (prog, fam, p) in enumerate(plan):
        a = int(i * 2.0 * rate)
        seg = x[a:a + int(1.2 * rate)]
        pk = np.abs(seg).max()
        if pk < 1e-3:
            continue
        seg = seg / pk * 10 ** (-3 / 20)
        items.append(dict(x=seg, rate=rate, label=fam, source=f"FluidR3_GM program {prog} note {p}, 1.0 s held, 1.2 s cut"))
    rng.shuffle(items)
    items, natural = clean_audio(items)
    finish_audio_set("notes", items, out, rng, "note", dict(
        description="single instrument notes, 1.2 s, 16 kHz mono, peak -3 dBFS (18 GM programs x 5 pitches)",
        provenance=f"Debian fluid-soundfont-gm {pkg_version('fluid-soundfont-gm')} (FluidR3_GM.sf2) rendered with "
                   f"fluidsynth {pkg_version('fluidsynth')}",
        labels="instrument family: piano, mallet, organ, guitar, bass, strings, brass, reed, pipe",
        license="FluidR3_GM: MIT"),
        n_exact=5, n_near=20, n_silent=5, n_clipped=5, natural=natural)


BUILDERS = {
    "zh_poems": build_zh_poems, "quotes_multi": build_quotes, "manpages_en": build_manpages_en,
    "manpages_ja": build_manpages_ja, "glyphs28": build_glyphs28, "icons_alpha": build_icons_alpha,
    "photos": build_photos, "faces25": build_faces25, "words": build_words, "notes": build_notes,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/work/curation-data")
    ap.add_argument("--set", action="append", choices=sorted(BUILDERS))
    ap.add_argument("--seed", type=int, default=20261207)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in a.set or list(BUILDERS):
        rng = random.Random(f"{a.seed}:{name}")
        BUILDERS[name](out, rng)


if __name__ == "__main__":
    main()
