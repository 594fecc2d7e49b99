"""The HTML report: sclite alignments read back, rows built from stage-9 files, the page in a browser.

The recipe here is a small tree in stage 9's layout: a data dir with audio, references,
canonical, speakers and divergence, and three models whose hypotheses are scored by the
real stage-9 scorer (``espnet_l2dual.bin.score``, i.e. sclite). The page is loaded in headless
Chromium and its DOM checked (rows, audio elements, highlighted edits, an escaped
``<script>`` transcript, the filters' script having run).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

from browser import dump_dom, parse, screenshot
from espnet_l2dual.bin import html_report, score
from espnet_l2dual.report.html_page import markdown_html
from espnet_l2dual.report.utterance_rows import segments
from espnet_l2dual.scoring.sclite import run_sclite
from espnet_l2dual.scoring.sclite_alignment import Column, read_alignments
from espnet_l2dual.utils.fileio import write_table

SCRIPT = "<script>alert(1)</script>"
REF = {"surface": {"u1": "THE CAT SAT", "u2": "A DOG RAN", "u3": f"HI {SCRIPT}"},
       "meaning": {"u1": "THE CAT SAT", "u2": "A DOG RAN", "u3": f"HI {SCRIPT}"}}
CANONICAL = {"u1": "THE CAT SAT", "u2": "A DOG RUN", "u3": "HI THERE"}
HYPS = {
    "stl_surface": {"surface": {"u1": "THE CAT SAT", "u2": "A DOG RAN", "u3": "HI"}},
    "stl_meaning": {"meaning": {"u1": "THE CAT SAT", "u2": "A DOG RAN", "u3": "HI"}},
    "mtl": {"surface": {"u1": "THE KAT SAT", "u2": "A DOG", "u3": "HI"},
            "meaning": {"u1": "THE CAT SAT", "u2": "A DOG RAN", "u3": f"HI {SCRIPT}"}},
}


def _make_recipe(root: Path) -> Path:
    """egs2/l2en/asr1 with dump/raw/test and exp/asr_<config>_tiny scored by stage 9's scorer."""
    recipe = root / "egs2" / "l2en" / "asr1"
    test = recipe / "dump" / "raw" / "test"
    (test / "audio").mkdir(parents=True)
    wav = {}
    for i, utt in enumerate(REF["surface"]):
        soundfile.write(test / "audio" / f"{utt}.wav", 0.1 * np.sin(np.arange(1600) * (i + 1) / 10), 16000)
        wav[utt] = f"dump/raw/test/audio/{utt}.wav"  # relative to the recipe, as stages write it
    write_table(test / "wav.scp", wav.items())
    for o, refs in REF.items():
        write_table(test / f"text_{o}", refs.items())
    write_table(test / "text_canonical", CANONICAL.items())
    write_table(test / "utt2spk", [("u1", "spkA"), ("u2", "spkB"), ("u3", "spkA")])
    write_table(test / "utt2divergence", [("u1", "0"), ("u2", "0.15"), ("u3", "0.5")])
    for config, outputs in HYPS.items():
        exp = recipe / "exp" / f"asr_{config}_tiny"
        for o, hyps in outputs.items():
            (exp / "decode" / "test" / o).mkdir(parents=True)
            write_table(exp / "decode" / "test" / o / "text", hyps.items())
        assert score.main(["--lang", "en", "--decode_dir", str(exp / "decode"), "--data_root", str(recipe / "dump/raw"),
                           "--outputs", " ".join(outputs), "--tag", config, "--results_md", str(exp / "RESULTS.md"),
                           "--results_json", str(exp / "results.json")]) == 0
    return recipe


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return _make_recipe(tmp_path_factory.mktemp("html"))


def _page(recipe: Path, out: Path, *extra: str) -> Path:
    (recipe / "REPORT.md").write_text("# Summary\n\n|a|b|\n|---|---|\n|1|2|\n\nraw <b>html</b> stays text\n\n"
                                      "details: [mtl](exp/asr_mtl_tiny/RESULTS.md)\n")
    assert html_report.main(["--recipes", str(recipe), "--configs", "stl_surface", "stl_meaning", "mtl",
                             "--summary_md", str(recipe / "REPORT.md"), "--out", str(out), *extra]) == 0
    return out


def test_sclite_alignment_is_read_back_with_its_units(tmp_path) -> None:
    refs = {"a": ["x", "{", "y", "z"], "b": ["가", "나"]}
    hyps = {"a": ["x", "q", "z", "w"], "b": ["가", "나"]}
    run_sclite(tmp_path, refs, hyps, {"a": "s1", "b": "s1"})
    cols = read_alignments(tmp_path)
    a = cols["s1-a"]
    assert [c.op for c in a].count("C") == 2 and sum(c.op != "C" for c in a) == 3
    assert Column("C", "{", None) not in a and any(c.ref == "{" for c in a)  # sclite's escape undone
    assert [c.hyp for c in a if c.hyp] == hyps["a"] and [c.ref for c in a if c.ref] == refs["a"]
    assert [c.op for c in cols["s1-b"]] == ["C", "C"]


def test_sclite_alignment_that_disagrees_with_its_counts_is_an_error(tmp_path) -> None:
    run_sclite(tmp_path, {"a": ["x", "y"]}, {"a": ["x", "z"]}, {"a": "s"})
    result = tmp_path / "result.txt"
    text = result.read_text(encoding="utf-8")
    result.write_text(text.replace("Scores: (#C #S #D #I) 1 1 0 0", "Scores: (#C #S #D #I) 2 0 0 0"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"result.txt:\d+: columns give C S D I \(1, 1, 0, 0\)"):
        read_alignments(tmp_path)


def test_segments_show_deleted_reference_and_boundaries() -> None:
    cols = [Column("C", "A", "A"), Column("D", "<space>", None), Column("S", "B", "C"), Column("I", None, "D")]
    segs = segments(cols, "")
    assert [s["op"] for s in segs] == ["C", "D", "S", "I"]
    assert segs[1]["text"] == "\u2423" and segs[2]["ref"] == "B" and segs[3]["text"] == "D"


def test_markdown_summary_escapes_raw_html() -> None:
    html = str(markdown_html("|a|\n|---|\n|<script>x</script>|\n"))
    assert "<table>" in html and "<script>" not in html and "&lt;script&gt;" in html


def test_rows_show_mtl_minus_stl_and_mispronunciations(recipe, tmp_path) -> None:
    page = _page(recipe, tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # user data is escaped
    assert html.count('<tr class="utt"') == 3
    # MTL surface: 1 and 4 (characters) edits more than STL-surface on u1, u2, as many on u3; meaning fewer on u3
    assert re.findall(r'data-delta-surface="(-?[0-9]+)"', html) == ["1", "4", "0"]
    meaning = [int(d) for d in re.findall(r'data-delta-meaning="(-?[0-9]+)"', html)]
    assert meaning[:2] == [0, 0] and meaning[2] < 0
    assert "MTL − STL surface: +1 edits" in html and f"MTL − STL meaning: {meaning[2]:+d} edits" in html
    assert "RUN &rarr; RAN" in html  # annotated: canonical RUN, said RAN
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<audio ") == 3


def test_a_missing_model_is_one_error_line(recipe, tmp_path, capsys) -> None:
    assert html_report.main(["--recipes", str(recipe), "--configs", "mtl", "nosuch",
                             "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "asr_nosuch_tiny/results.json: missing" in err[0]
    assert not (tmp_path / "r.html").exists()


def test_page_in_headless_chromium(recipe, tmp_path) -> None:
    figures = recipe / "exp" / "analysis" / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    import matplotlib.pyplot as plt
    plt.imsave(figures / "cka.png", np.zeros((4, 4)))
    page = _page(recipe, tmp_path / "page" / "report.html")
    dom = parse(dump_dom(page))
    rows = dom.find_all("tr", "utt")
    assert len(rows) == 3
    assert all(len(r.find_all("audio")) == 1 for r in rows)
    for audio in dom.find_all("audio"):  # relative links that resolve to the recipe's audio
        assert (page.parent / audio.attrs["src"]).resolve().is_file()
    assert dom.find_all("span", "S") and dom.find_all("span", "D")  # highlighted edits
    assert not dom.find_all("script")[:-1]  # the page's own filter script only; the transcript's is text
    assert any(SCRIPT in r.all_text() for r in rows)
    shown = dom.find_all("span", "shown")
    assert shown and shown[0].all_text() == "3 of 3 utterances shown"  # the filter script ran
    assert dom.find_all("table")[0].find_all("td")  # the Markdown summary table
    links = [a.attrs["href"] for a in dom.find_all("a")]
    assert links and all((page.parent / h).resolve().is_file() for h in links), links  # from the page's folder
    for img in dom.find_all("img"):
        assert (page.parent / img.attrs["src"]).resolve().is_file()
    html = page.read_text(encoding="utf-8")
    assert html.index('<table class="utts">') < html.index('<section class="figures">')  # the table first
    assert dom.find_all("select", "f-sort") and dom.find_all("select", "f-delta")
    shot = screenshot(page, tmp_path / "report.png")
    assert shot.stat().st_size > 10_000


def test_transcribe_page_keeps_the_mispronunciation_column_inside_1200px(tmp_path) -> None:
    """A long recording path and many mispronounced words: the table wraps instead of running off the page."""
    from browser import _run

    from espnet_l2dual.report.transcription_page import html_row
    from espnet_l2dual.report.html_page import Section, render

    wav = tmp_path / ("a_long_folder_name_of_recordings_" * 4) / "learner_0001_session_reading_passage.wav"
    wav.parent.mkdir(parents=True)
    soundfile.write(wav, np.zeros(1600), 16000)
    words = " ".join(f"WORD{i}" for i in range(40))
    errors = [{"expected": f"EXPECTED{i}", "said": f"SAID{i}"} for i in range(30)]
    row = html_row(str(wav), {"meaning": words, "surface": words.replace("WORD", "WURD")}, errors, "prompted",
                   True, tmp_path, "packed.zip")
    header = [{"output": o, "metric": "", "models": ["packed.zip"]} for o in ("surface", "meaning")]
    page = tmp_path / "page.html"
    render(page, "transcriptions", [Section("recordings", [row], header)])
    probe = ("<script>window.addEventListener('load', function () { var c = document.querySelector('td.mdd');"
             " document.body.setAttribute('data-right', Math.round(c.getBoundingClientRect().right));"
             " document.body.setAttribute('data-width', document.documentElement.clientWidth); });</script></body>")
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom = _run(["--window-size=1200,800", "--dump-dom", page.resolve().as_uri()]).stdout
    right, width = (int(re.search(rf'data-{k}="([0-9]+)"', dom).group(1)) for k in ("right", "width"))
    assert right <= width <= 1200, (right, width)


def test_rows_sort_and_filter_by_mtl_minus_stl_in_a_browser(recipe, tmp_path) -> None:
    """Ordering by MTL − STL surface (largest first) and keeping only rows where MTL made more edits."""
    from browser import _run

    page = _page(recipe, tmp_path / "report.html")
    probe = ("<script>window.addEventListener('load', function () {"
             " var box = document.querySelector('.filters');"
             " var sort = box.querySelector('.f-sort'); sort.value = 'surface:desc';"
             " sort.dispatchEvent(new Event('change'));"
             " var order = Array.prototype.map.call(document.querySelectorAll('tr.utt'), function (r) {"
             "   return r.cells[0].firstChild.textContent.trim(); }).join(',');"
             " var f = box.querySelector('.f-delta[data-output=meaning]'); f.value = 'neg';"
             " f.dispatchEvent(new Event('change'));"
             " var shown = Array.prototype.filter.call(document.querySelectorAll('tr.utt'), function (r) {"
             "   return r.style.display !== 'none'; }).length;"
             " document.body.setAttribute('data-order', order); document.body.setAttribute('data-shown', shown);"
             " });</script></body>")
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom = _run(["--dump-dom", page.resolve().as_uri()]).stdout
    assert 'data-order="u2,u1,u3"' in dom  # surface deltas 4, 1, 0
    assert 'data-shown="1"' in dom  # only u3: MTL's meaning has fewer edits
