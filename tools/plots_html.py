"""`dvc plots diff` as an HTML page that opens with no network.

    python -m tools.plots_html [REV ...] [--out dvc_plots]

DVC's page loads Vega from a CDN. This writes an HTML template with Vega,
Vega-Lite and Vega-Embed inlined (bundled by vl-convert-python, offline) and
passes it to `dvc plots diff --html-template`, so the page, its interactive
plots and its images work from a laptop on a plane. REVs are as for
`dvc plots diff` (none: the workspace against HEAD).
"""

import argparse
import subprocess
import sys
from pathlib import Path

from stages.cli import StageError, stage_main
from stages.files import write_text

TEMPLATE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>fromzero plots</title>
    <script>%s</script>
    <style>
        body { font-family: sans-serif; margin: 1.5em; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def offline_template():
    """DVC's page layout with the three Vega libraries inlined (about 0.9 MB)."""
    import vl_convert

    bundle = vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; "
                                          "window.vega = vega;")
    return TEMPLATE % bundle.replace("</script", "<\\/script")


@stage_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revisions", nargs="*")
    parser.add_argument("--out", default="dvc_plots", type=Path)
    args = parser.parse_args(argv)

    template = args.out / "offline_template.html"
    write_text(template, offline_template())
    command = [sys.executable, "-m", "dvc", "plots", "diff", *args.revisions,
               "--html-template", str(template), "--out", str(args.out)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise StageError(f"dvc plots diff failed: {(result.stderr or result.stdout).strip()}")
    page = args.out / "index.html"
    if "cdn.jsdelivr" in page.read_text(encoding="utf-8"):
        raise StageError(f"{page} still loads scripts from the network")
    print(f"wrote {page} (opens offline)")


if __name__ == "__main__":
    raise SystemExit(main())
