"""The page `dvc plots show` and `dvc plots diff` write: drawn with no network, and never running what it shows.

    python -m tools.plots_html --write   # after upgrading vl-convert-python or DVC (test_plots_page.py says when)

.dvc/config points DVC at .dvc/plots/offline.html (`plots.html_template`), which this writes.

**Offline.** DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline its data plots
are blank and the page still looks complete. This page inlines the three (about 0.9 MB, bundled by
vl-convert-python) and draws every plot as SVG, so a test (and a person) can see every mark.

**Data stays data.** DVC writes what it fills in (`{plot_divs}`) as raw HTML: each plot's data, with
the revision names, as JSON inside a ``<script>`` (not escaped: a branch named
``x</script><script>…`` closes it and runs its own script), and each image plot's revision as
``<p>{rev}</p><img src="static/{rev}_…">`` (a ``"`` in a name adds attributes). So this page puts
``{plot_divs}`` last, after a ``<plaintext>`` tag: HTML's parser reads everything after it as text,
and no end tag ends it, whatever a name holds. The page's own script then reads that text line by
line (DVC's layout: one JSON spec per line, one revision title and one image per line), parses
each spec with ``JSON.parse`` and builds the plots through the DOM (text as ``textContent``,
sources as attributes), never through ``innerHTML``. A Content-Security-Policy allows only the
page's two scripts (by their SHA-256) and Vega's expression interpreter (no ``eval``), so even a
script that reached the page as markup would not run.
"""

import argparse
import base64
import hashlib
import sys
from pathlib import Path

from project.errors import UserError
from project.files import write_text

TEMPLATE_PATH = Path(".dvc/plots/offline.html")
SOURCE_ID = "dvc-plots"  # the <plaintext> holding what DVC wrote, read by the page's script
PLOTS_ID = "plots"  # where the page's script draws the plots

# The page's script: DVC's markup, read as text (see the module's docstring). DVC (dvc-render's
# VegaRenderer and ImageRenderer) writes, each on its own line:
#   <div id = "{plot id}">            a data plot ...   var spec = {JSON};   ... its Vega-Lite spec
#   id="{plot id}"                    an image plot ... <p>{title}</p> (the plot's path, then each
#                                     revision, each revision followed by)   <img src="{file}">
LOADER = r"""
document.addEventListener("DOMContentLoaded", function () {
    "use strict";
    var source = document.getElementById("%(source)s");
    var root = document.getElementById("%(plots)s");
    if (!source || !root) { return; }
    var lines = source.textContent.split("\n");
    source.parentNode.removeChild(source);
    var plot = null;
    function element(tag, text) {
        var node = document.createElement(tag);
        if (text !== undefined) { node.textContent = text; }
        return node;
    }
    function newPlot(id, kind) {
        plot = element("div");
        plot.id = id;
        plot.className = "plot " + kind;
        root.appendChild(plot);
        return plot;
    }
    for (var i = 0; i < lines.length; i++) {
        var line = lines[i].trim(), found;
        if ((found = /^<div id = "(.*)">$/.exec(line))) {
            newPlot(found[1], "data");
        } else if ((found = /^id="(.*)"$/.exec(line))) {
            newPlot(found[1], "images");
        } else if ((found = /^var spec = (.*);$/.exec(line)) && plot) {
            var target = element("div");
            plot.appendChild(target);
            try {
                window.vegaEmbed(target, JSON.parse(found[1]), {renderer: "svg", actions: false, ast: true})
                    .catch(function (error) { this.appendChild(element("p", "not drawn: " + error)); }.bind(target));
            } catch (error) {
                target.appendChild(element("p", "not drawn: " + error));
            }
        } else if ((found = /^<p>(.*)<\/p>$/.exec(line)) && plot) {
            var next = i + 1;
            while (next < lines.length && lines[next].trim() === "") { next++; }
            var image = next < lines.length ? /^<img src="(.*)">$/.exec(lines[next].trim()) : null;
            if (image) {  // a revision's image: its name as a caption
                var figure = element("figure"), picture = element("img");
                picture.setAttribute("src", image[1]);
                picture.setAttribute("alt", found[1]);
                figure.appendChild(element("figcaption", found[1]));
                figure.appendChild(picture);
                plot.appendChild(figure);
                i = next;
            } else {  // the image plot's own name
                plot.appendChild(element("h3", found[1]));
            }
        }
    }
    if (!root.firstChild && /\S/.test(lines.join(""))) {  // markup of a DVC this page does not know
        root.appendChild(element("p", "This page could not read the plots this DVC wrote into it (tools/" +
                                      "plots_html.py reads dvc-render's layout); `dvc plots show --json` has them."));
    }
});
""" % {"source": SOURCE_ID, "plots": PLOTS_ID}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="%(policy)s">
    <title>fromzero plots</title>
    <script>%(bundle)s</script>
    <script>%(loader)s</script>
    <style>
        body { font-family: sans-serif; margin: 1.5em; }
        .plot { margin: 15px 0; }
        .images { border: 1px solid black; text-align: center; white-space: nowrap; overflow-x: auto; }
        figure { display: inline-block; border: 1px dotted black; margin: 2px 2px 2px 8px; }
        figcaption { font-family: monospace; white-space: pre-wrap; }
    </style>
</head>
<body>
    <noscript>These plots are drawn by JavaScript (inlined here, no network needed): allow it for this page.</noscript>
    <div id="%(plots)s"></div>
    <plaintext hidden id="%(source)s">
{plot_divs}
"""


def script_hash(script):
    """The CSP source that allows exactly this inline script: 'sha256-<base64 of its UTF-8 digest>'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def offline_page():
    """The page template: the bundle and the loader inlined, `{plot_divs}` last, inside <plaintext>."""
    import vl_convert

    bundle = vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; "
                                          "window.vega = vega;")
    bundle = bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    policy = (f"default-src 'none'; script-src {script_hash(bundle)} {script_hash(LOADER)}; "
              "style-src 'unsafe-inline'; img-src 'self' data: file:; font-src data:; base-uri 'none'; "
              "form-action 'none'")
    return PAGE % {"policy": policy, "bundle": bundle, "loader": LOADER, "plots": PLOTS_ID, "source": SOURCE_ID}


def stale(path=TEMPLATE_PATH):
    """Whether the committed page differs from what this vl-convert gives."""
    return not Path(path).exists() or Path(path).read_text(encoding="utf-8") != offline_page()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.plots_html", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {TEMPLATE_PATH} (else: exit 1 if it is stale)")
    args = parser.parse_args(argv)
    try:
        if args.write:
            write_text(TEMPLATE_PATH, offline_page())
            print(f"wrote {TEMPLATE_PATH}")
            return 0
        if stale():
            raise UserError(f"{TEMPLATE_PATH}: differs from this vl-convert's bundle; run `python -m tools.plots_html "
                            "--write`")
    except UserError as error:
        print(f"error: plots_html: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
