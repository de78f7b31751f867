"""The page `dvc plots show` and `dvc plots diff` write, made to draw with no network.

    python -m tools.plots_html --write     # after upgrading vl-convert-python (tests/test_plots_page.py says when)

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline its data plots are
blank and the page still looks complete. .dvc/config points DVC at .dvc/plots/offline.html
(`plots.html_template`), which this writes: DVC's layout with the three libraries inlined (about
0.9 MB, bundled by vl-convert-python, offline), so plain `dvc plots show` / `dvc plots diff` pages
draw on a plane. Plots are drawn as SVG, so a test (and a person) can see every mark in the page.
"""

import argparse
import sys
from pathlib import Path

from stages.cli import UserError, stage_main
from project.files import write_text

TEMPLATE_PATH = Path(".dvc/plots/offline.html")
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>fromzero plots</title>
    <script>%s</script>
    <script>
        // Every plot as SVG, so its marks are elements of the page; DVC calls vegaEmbed(id, spec).
        window.vegaEmbed = (function (embed) {
            return function (element, spec, options) {
                return embed(element, spec, Object.assign({renderer: "svg", actions: false}, options || {}));
            };
        })(window.vegaEmbed);
    </script>
    <style>
        body { font-family: sans-serif; margin: 1.5em; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    <noscript>These plots are drawn by JavaScript (inlined here, no network needed): allow it for this page.</noscript>
    {plot_divs}
</body>
</html>
"""


def offline_page():
    """DVC's page layout with Vega, Vega-Lite and Vega-Embed inlined; no `{scripts}` slot, so DVC adds no CDN."""
    import vl_convert

    bundle = vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; "
                                          "window.vega = vega;")
    return PAGE % bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def stale(path=TEMPLATE_PATH):
    """Whether the committed page differs from what this vl-convert gives."""
    return not path.exists() or path.read_text(encoding="utf-8") != offline_page()


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {TEMPLATE_PATH} (else: exit 1 if it is stale)")
    args = parser.parse_args(argv)
    if args.write:
        write_text(TEMPLATE_PATH, offline_page())
        print(f"wrote {TEMPLATE_PATH}")
        return 0
    if stale():
        raise UserError(f"{TEMPLATE_PATH}: differs from this vl-convert's bundle; run `python -m tools.plots_html "
                         "--write`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
